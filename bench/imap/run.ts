// IMAP benchmark: Pochta vs Dovecot 2.3 (Debian) over the same 10,000-message Maildir, 127.0.0.1 only.
//
// A BENCHMARK, not a test. Entry point: bash bench/imap/run.sh (root: Dovecot's master drops to its
// own users). Measures, per server, with a raw-socket IMAP client (bench/imap/client.ts):
//   - LOGIN + SELECT INBOX + `UID FETCH 1:* (FLAGS ENVELOPE)`: first session after start (cold) and
//     the median of the next sessions (warm), each a new connection;
//   - `UID SEARCH BODY "<needle>"` (1 message in 100 has it), median;
//   - APPEND rate: sequential 4 KB APPENDs on one connection into another folder;
//   - memory of concurrent IDLE sessions: Σ RSS and Σ PSS of the server's process tree before and
//     with every session idling, per session.
// Appends a section under "IMAP" to bench/RESULTS.md. Every loop is bounded in count and time.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt } from '../lib/env.ts';
import { freePort } from '../lib/net.ts';
import { appendSection } from '../lib/results.ts';
import { pochtaVersion } from '../lib/version.ts';
import { ImapClient } from './client.ts';
import { buildMaildir, makeMessage, NEEDLE } from './corpus.ts';
import { dovecotVersion, startDovecot } from './dovecot.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOOPBACK = '127.0.0.1';
const USER = 'bench@bench.test';
const PASSWORD = 'bench-password-123';


const settings = {
  messages: envInt('BENCH_IMAP_MESSAGES', 10_000),
  idle: envInt('BENCH_IMAP_IDLE', 1000),
  appends: envInt('BENCH_IMAP_APPENDS', 500),
  repeat: Math.max(1, envInt('BENCH_IMAP_REPEAT', 3)),
  servers: (process.env.BENCH_IMAP_SERVERS ?? 'dovecot,pochta').split(/[\s,]+/).filter(Boolean),
  results: path.resolve(REPO, process.env.BENCH_RESULTS ?? 'bench/RESULTS.md'),
  write: process.env.BENCH_IMAP_NO_WRITE !== '1',
};
const WORK = process.env.BENCH_WORK ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-imap-bench-'));
fs.chmodSync(WORK, 0o755); // Dovecot's users must traverse it

function log(msg: string): void {
  process.stderr.write(`[bench:imap ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

// ---- process tree memory ---------------------------------------------------------------

const PAGE = 4096;
function children(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      const list = map.get(ppid) ?? [];
      list.push(Number(d));
      map.set(ppid, list);
    } catch {
      // exited meanwhile
    }
  }
  return map;
}
function tree(root: number): number[] {
  const kids = children();
  const out = [root];
  for (let i = 0; i < out.length && i < 100_000; i++) out.push(...(kids.get(out[i] ?? 0) ?? []));
  return out;
}
function memory(root: number): { rss: number; pss: number; processes: number } {
  let rss = 0;
  let pss = 0;
  const pids = tree(root);
  for (const pid of pids) {
    try {
      rss += Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      pss += m ? Number(m[1]) * 1024 : 0;
    } catch {
      // exited meanwhile
    }
  }
  return { rss, pss, processes: pids.length };
}
function cpuMs(root: number): number {
  let ticks = 0;
  for (const pid of tree(root)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]); // utime stime cutime cstime
    } catch {
      // exited
    }
  }
  return ticks * 10; // USER_HZ 100
}


/** IDLE sessions logged in at once (a login costs a password hash on the server). */
const IDLE_BATCH = 10;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

// ---- servers -----------------------------------------------------------------------------

interface Server {
  readonly name: string;
  readonly version: string;
  readonly port: number;
  readonly rootPid: number;
  readonly notes: string;
  stop(): Promise<void>;
}

async function startDovecotServer(maildir: string): Promise<Server> {
  const port = await freePort();
  const dv = await startDovecot({ dir: path.join(WORK, 'dovecot'), maildir, user: USER, password: PASSWORD, port, maxSessions: settings.idle + 50 });
  fs.writeFileSync(path.join(WORK, 'pids', 'dovecot.conf'), dv.configPath);
  return {
    name: 'dovecot',
    version: `Dovecot ${dovecotVersion()}`,
    port,
    rootPid: dv.masterPid,
    notes: 'private instance (own base_dir, passwd-file, static userdb), maildir, default mail_fsync=optimized, imap-login high-performance mode (service_count=0), one imap process per session, index files built by the first session',
    stop: async () => {
      dv.stop();
      fs.rmSync(path.join(WORK, 'pids', 'dovecot.conf'), { force: true });
    },
  };
}

async function waitGreeting(port: number, alive: () => boolean, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    if (!alive()) throw new Error('server exited');
    try {
      const c = await ImapClient.connect(port, 2000);
      c.close();
      return;
    } catch {
      await sleep(200);
    }
  }
  throw new Error('server did not greet');
}

async function startPochtaServer(mailRoot: string): Promise<Server> {
  const port = await freePort();
  const smtpPort = await freePort();
  const dataDir = path.join(WORK, 'pochta-data');
  fs.mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(WORK, 'pochta.yaml');
  fs.writeFileSync(
    configFile,
    `# Written by bench/imap/run.ts
hostname: pochta-bench.localdomain
dataDir: ${dataDir}
workers: 1
log: { level: info, pretty: false }
smtp:
  listeners:
    mx: { kind: mx, host: ${LOOPBACK}, port: ${smtpPort} }
pop3: { listeners: {} }
imap:
  listeners:
    imap: { tls: starttls, host: ${LOOPBACK}, port: ${port} }
  allowPlaintextAuth: true
  maxConnections: ${settings.idle + 100}
plugins:
  auth-file: {}
  local-domains: { domains: [bench.test] }
  maildir: { root: ${mailRoot} }
`,
  );
  const bin = path.join(REPO, 'bin', 'pochta.js');
  const add = spawnSync(process.execPath, [bin, '--config', configFile, 'user', 'add', USER], { input: `${PASSWORD}\n`, cwd: REPO, encoding: 'utf8' });
  if (add.status !== 0) throw new Error(`pochta user add failed: ${add.stderr}${add.stdout}`);
  const logFd = fs.openSync(path.join(WORK, 'pochta.log'), 'a');
  // BENCH_POCHTA_NODE_ARGS: extra node flags (e.g. --cpu-prof --cpu-prof-dir=/tmp/p); forked workers inherit them.
  const nodeArgs = (process.env.BENCH_POCHTA_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, bin, 'start', '--config', configFile], {
    cwd: REPO, env: { ...process.env, NODE_ENV: 'production' }, stdio: ['ignore', logFd, logFd], detached: true,
  });
  fs.closeSync(logFd);
  const pid = child.pid ?? 0;
  fs.writeFileSync(path.join(WORK, 'pids', 'pochta.pgid'), String(pid));
  let exited = false;
  child.once('exit', () => (exited = true));
  await waitGreeting(port, () => !exited, 90);
  const version = pochtaVersion(REPO);
  return {
    name: 'pochta',
    version,
    port,
    rootPid: pid,
    notes: '`pochta start --config <tmp>/pochta.yaml` (tsx), workers: 1, plugins auth-file + local-domains + maildir, allowPlaintextAuth for loopback, log level info',
    stop: async () => {
      if (exited) return;
      try {
        process.kill(-pid, 'SIGTERM');
      } catch {
        // gone
      }
      for (let i = 0; i < 150 && !exited; i++) await sleep(100);
      if (!exited) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      fs.rmSync(path.join(WORK, 'pids', 'pochta.pgid'), { force: true });
    },
  };
}

// ---- measurements ----------------------------------------------------------------------

/** Connects and logs in; a server shedding logins ([UNAVAILABLE]) is retried a few times, backing off. */
async function session(port: number): Promise<ImapClient> {
  for (let attempt = 0; ; attempt++) {
    const c = await ImapClient.connect(port);
    const r = await c.command(`LOGIN "${USER}" "${PASSWORD}"`);
    if (r.status === 'OK') return c;
    c.close();
    if (!r.text.includes('UNAVAILABLE') || attempt >= 8) throw new Error(`LOGIN failed: ${r.status} ${r.text}`);
    await sleep(250 * 2 ** Math.min(attempt, 4));
  }
}

interface FetchRun {
  readonly selectMs: number;
  readonly fetchMs: number;
  readonly count: number;
  /** Server CPU of SELECT and FETCH together (Σ over the process tree). */
  readonly serverCpuMs: number;
  /** Server CPU of the SELECT alone (the cold one moves new/ files to cur/ in both servers). */
  readonly selectCpuMs: number;
}

async function fetchRun(s: Server): Promise<FetchRun> {
  const c = await session(s.port);
  try {
    const cpu0 = cpuMs(s.rootPid);
    const t0 = performance.now();
    const sel = await c.command('SELECT INBOX');
    const t1 = performance.now();
    const cpu1 = cpuMs(s.rootPid);
    if (sel.status !== 'OK') throw new Error(`SELECT: ${sel.text}`);
    const f = await c.command('UID FETCH 1:* (FLAGS ENVELOPE)');
    const t2 = performance.now();
    if (f.status !== 'OK') throw new Error(`FETCH: ${f.text}`);
    await c.command('LOGOUT').catch(() => undefined);
    return { selectMs: t1 - t0, fetchMs: t2 - t1, count: f.count, serverCpuMs: cpuMs(s.rootPid) - cpu0, selectCpuMs: cpu1 - cpu0 };
  } finally {
    c.close();
  }
}

async function searchRun(s: Server): Promise<{ ms: number; hits: number; cpuMs: number }> {
  const c = await session(s.port);
  try {
    await c.command('EXAMINE INBOX');
    const cpu0 = cpuMs(s.rootPid);
    const t0 = performance.now();
    const r = await c.command(`UID SEARCH BODY "${NEEDLE}"`, { keep: true });
    const ms = performance.now() - t0;
    if (r.status !== 'OK') throw new Error(`SEARCH: ${r.text}`);
    const line = r.untagged.find((l) => l.startsWith('* SEARCH')) ?? '* SEARCH';
    return { ms, hits: line.split(' ').length - 2, cpuMs: cpuMs(s.rootPid) - cpu0 };
  } finally {
    c.close();
  }
}

async function appendRun(s: Server): Promise<{ perSec: number; n: number }> {
  const c = await session(s.port);
  try {
    await c.command('CREATE Bench');
    const msg = makeMessage(7).subarray(0, 4096);
    const t0 = performance.now();
    for (let i = 0; i < settings.appends; i++) {
      const r = await c.append('Bench', msg);
      if (r.status !== 'OK') throw new Error(`APPEND: ${r.text}`);
    }
    const s1 = (performance.now() - t0) / 1000;
    return { perSec: settings.appends / s1, n: settings.appends };
  } finally {
    c.close();
  }
}

async function idleRun(s: Server): Promise<{ sessions: number; before: ReturnType<typeof memory>; during: ReturnType<typeof memory> }> {
  await sleep(1000);
  const before = memory(s.rootPid);
  const clients: ImapClient[] = [];
  try {
    for (let i = 0; i < settings.idle; i += IDLE_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(IDLE_BATCH, settings.idle - i) }, async () => {
          const c = await session(s.port);
          const r = await c.command('SELECT INBOX');
          if (r.status !== 'OK') throw new Error(`SELECT: ${r.text}`);
          await c.idle();
          return c;
        }),
      );
      clients.push(...batch);
    }
    await sleep(3000);
    const during = memory(s.rootPid);
    return { sessions: clients.length, before, during };
  } finally {
    for (const c of clients) c.close();
  }
}

interface Result {
  server: Server;
  cold: FetchRun;
  warm: FetchRun[];
  search: Awaited<ReturnType<typeof searchRun>>[];
  append: { perSec: number; n: number };
  idle?: Awaited<ReturnType<typeof idleRun>>;
  errors: string[];
}

async function measure(s: Server): Promise<Result> {
  log(`${s.name}: cold FETCH`);
  const cold = await fetchRun(s);
  log(`${s.name}: cold select ${cold.selectMs.toFixed(0)} ms (server cpu ${cold.selectCpuMs} ms), fetch ${cold.fetchMs.toFixed(0)} ms (server cpu ${cold.serverCpuMs} ms), ${cold.count} responses`);
  const warm: FetchRun[] = [];
  for (let i = 0; i < settings.repeat; i++) warm.push(await fetchRun(s));
  log(`${s.name}: warm fetch ${warm.map((w) => `${w.fetchMs.toFixed(0)} ms (cpu ${w.serverCpuMs})`).join(', ')}`);
  const search: Awaited<ReturnType<typeof searchRun>>[] = [];
  for (let i = 0; i < settings.repeat; i++) search.push(await searchRun(s));
  log(`${s.name}: search ${search.map((x) => `${x.ms.toFixed(0)} ms (cpu ${x.cpuMs}) / ${x.hits} hits`).join(', ')}`);
  const append = await appendRun(s);
  log(`${s.name}: append ${append.perSec.toFixed(0)}/s`);
  const errors: string[] = [];
  let idle: Result['idle'];
  try {
    idle = await idleRun(s);
    log(`${s.name}: idle ${idle.sessions} sessions, RSS ${(idle.before.rss / 1e6).toFixed(0)} → ${(idle.during.rss / 1e6).toFixed(0)} MB`);
  } catch (err) {
    errors.push(`IDLE run failed: ${(err as Error).message}`);
    log(`${s.name}: ${errors[errors.length - 1]}`);
  }
  return { server: s, cold, warm, search, append, ...(idle && { idle }), errors };
}

// ---- report ------------------------------------------------------------------------------

const LOAD_AT_START = os.loadavg();

function machine(): string[] {
  const cpus = os.cpus();
  let osName = '';
  try {
    osName = /PRETTY_NAME="([^"]+)"/.exec(fs.readFileSync('/etc/os-release', 'utf8'))?.[1] ?? '';
  } catch {
    // none
  }
  return [
    `- CPU: ${cpus.length} × ${cpus[0]?.model ?? '?'} (nproc ${os.availableParallelism()})`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${os.release()}; ${osName}`,
    `- Node ${process.version}; load average at start: ${LOAD_AT_START.map((x) => x.toFixed(2)).join(' ')}`,
  ];
}

function report(results: Result[], corpusBytes: number): string {
  const kb = (b: number) => (b / 1024).toFixed(0);
  const lines: string[] = [];
  lines.push(`## IMAP run ${new Date().toISOString().slice(0, 19)}Z — ${results.map((r) => r.server.name).join(' vs ')}`, '');
  lines.push('Command: `bash bench/imap/run.sh` (settings: see bench/imap/README.md).', '');
  lines.push('### Machine', '', ...machine(), '');
  lines.push('### Servers', '');
  for (const r of results) lines.push(`- **${r.server.name}** (${r.server.version}): ${r.server.notes}`);
  lines.push('', `Corpus: ${settings.messages} messages, ${(corpusBytes / 1e6).toFixed(1)} MB, one Maildir written by Pochta's MaildirStore; Dovecot gets a copy of the same files. Client: raw-socket IMAP client in Node on the same machine, new connection per run, plaintext LOGIN on loopback.`, '');
  lines.push('### Results', '');
  lines.push('| server | SELECT ms cold (server CPU ms) | FETCH ms cold (server CPU ms, with the SELECT) | FETCH ms warm, median (server CPU ms) | SEARCH BODY ms, median (server CPU ms) | hits | APPEND/s (4 KB, 1 conn) | IDLE sessions | RSS before → with sessions MB | RSS KB/session (Δ) | PSS KB/session (Δ) |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of results) {
    const warm = median(r.warm.map((w) => w.fetchMs));
    const cpu = median(r.warm.map((w) => w.serverCpuMs));
    const i = r.idle;
    const n = Math.max(1, i?.sessions ?? 1);
    const idleCells = i
      ? `${i.sessions} | ${(i.before.rss / 1e6).toFixed(0)} → ${(i.during.rss / 1e6).toFixed(0)} | ${kb((i.during.rss - i.before.rss) / n)} | ${kb((i.during.pss - i.before.pss) / n)}`
      : 'failed | – | – | –';
    lines.push(
      `| ${r.server.name} | ${r.cold.selectMs.toFixed(0)} (${r.cold.selectCpuMs}) | ${r.cold.fetchMs.toFixed(0)} (${r.cold.serverCpuMs}) | ${warm.toFixed(0)} (${cpu.toFixed(0)}) | ${median(r.search.map((x) => x.ms)).toFixed(0)} (${median(r.search.map((x) => x.cpuMs)).toFixed(0)}) | ${r.search[0]?.hits ?? 0} | ${r.append.perSec.toFixed(0)} | ${idleCells} |`,
    );
  }
  const p = results.find((r) => r.server.name === 'pochta');
  const d = results.find((r) => r.server.name === 'dovecot');
  if (p && d) {
    const ratio = (a: number, b: number) => (b > 0 ? (a / b).toFixed(2) : 'n/a');
    lines.push('', '### Ratios (Pochta / Dovecot; time: lower is better)', '');
    lines.push(`- FETCH (FLAGS ENVELOPE) cold: ${ratio(p.cold.fetchMs, d.cold.fetchMs)}; warm: ${ratio(median(p.warm.map((w) => w.fetchMs)), median(d.warm.map((w) => w.fetchMs)))} (target ≤ 1.5)`);
    lines.push(`- server CPU time: cold FETCH ${ratio(p.cold.serverCpuMs, d.cold.serverCpuMs)} (FETCH alone, without its SELECT: ${ratio(p.cold.serverCpuMs - p.cold.selectCpuMs, d.cold.serverCpuMs - d.cold.selectCpuMs)}; cold SELECT ${ratio(p.cold.selectCpuMs, d.cold.selectCpuMs)}), warm FETCH ${ratio(median(p.warm.map((w) => w.serverCpuMs)), median(d.warm.map((w) => w.serverCpuMs)))}, SEARCH ${ratio(median(p.search.map((x) => x.cpuMs)), median(d.search.map((x) => x.cpuMs)))}`);
    lines.push(`- SEARCH BODY: ${ratio(median(p.search.map((x) => x.ms)), median(d.search.map((x) => x.ms)))} (target ≤ 1.5); same hits: ${p.search[0]?.hits === d.search[0]?.hits ? 'yes' : 'NO'}`);
    lines.push(`- APPEND rate: ${ratio(p.append.perSec, d.append.perSec)} (higher is better)`);
    const per = (r: Result) => (r.idle ? `${kb((r.idle.during.rss - r.idle.before.rss) / Math.max(1, r.idle.sessions))} KB` : 'not measured');
    lines.push(`- memory per IDLE session (Δ RSS): Pochta ${per(p)} (target < 50 KB), Dovecot ${per(d)} (Σ RSS counts shared pages once per process; PSS is the fairer figure for Dovecot's process-per-session model)`);
  }
  for (const r of results) for (const e of r.errors) lines.push(`- ${r.server.name}: ${e}`);
  lines.push('');
  return lines.join('\n');
}

// ---- main --------------------------------------------------------------------------------

async function main(): Promise<void> {
  fs.mkdirSync(path.join(WORK, 'pids'), { recursive: true });
  const pochtaRoot = path.join(WORK, 'pochta-mail');
  log(`building ${settings.messages} messages in ${pochtaRoot}`);
  const t0 = performance.now();
  await buildMaildir(pochtaRoot, USER, settings.messages);
  log(`built in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const userDir = path.join(pochtaRoot, 'bench.test', 'bench');
  let corpusBytes = 0;
  for (const sub of ['cur', 'new']) for (const f of fs.readdirSync(path.join(userDir, sub))) corpusBytes += fs.statSync(path.join(userDir, sub, f)).size;
  const dovecotMail = path.join(WORK, 'dovecot-mail');
  for (const sub of ['cur', 'new', 'tmp']) fs.cpSync(path.join(userDir, sub), path.join(dovecotMail, sub), { recursive: true });

  const results: Result[] = [];
  for (const name of settings.servers) {
    let server: Server | undefined;
    try {
      if (name === 'dovecot') server = await startDovecotServer(dovecotMail);
      else if (name === 'pochta') server = await startPochtaServer(pochtaRoot);
      else throw new Error(`unknown server ${name}`);
      results.push(await measure(server));
    } catch (err) {
      log(`${name} failed: ${(err as Error).stack ?? String(err)}`);
    } finally {
      await server?.stop();
    }
    await sleep(2000);
  }
  const text = report(results, corpusBytes);
  process.stdout.write(text);
  if (settings.write && results.length > 0) {
    appendSection(settings.results, text);
    log(`appended to ${settings.results}`);
  }
}

main().catch((err: unknown) => {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
});
