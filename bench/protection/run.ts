// Inbound protection cost: Pochta's bare core against the core plus the full protection set
// (dnsbl, helo-rdns, spf, dkim-verify, dmarc, clamav, spam-score) on 127.0.0.1, in one run,
// and a slow-DNS check (every DNS answer delayed) with responsiveness probes.
//
// A BENCHMARK, not a test. Entry point: bash bench/protection/run.sh (work dir, cleanup trap).
// Every loop is bounded in count and time; all traffic goes to 127.0.0.1. See README.md.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startClamd, type TestClamd } from '../../core/testing/clamd.ts';
import { envInt } from '../lib/env.ts';
import { killGroup } from '../lib/group.ts';
import { freePort, waitForGreeting } from '../lib/net.ts';
import { waitQuiet } from '../lib/quiet.ts';
import { runDriver } from '../lib/main.ts';
import { appendSection } from '../lib/results.ts';
import { CLK_TCK, allStats, cpuTotals, readStat, RssSampler, treeTicks } from '../lib/proc.ts';
import type { BenchDns, DnsKind } from './dns.ts';
import { startNodeDns } from './dns-node.ts';
import { TRAIN_PER_CLASS, waitLearned } from './bayes-training.ts';
import { startPochta, RCPT, type RunningPochta, type Variant } from './pochta.ts';
import { percentile, probeLoop, type ProbeResult } from './probe.ts';
import { summarise, type ProfileSummary } from './profile.ts';
import { startUnbound, unboundAvailable } from './unbound.ts';
import { HELO_NAME } from './zones.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const FROM = 'from@bench.test';

const S = {
  sessions: (process.env.BENCH_SESSIONS ?? '8,32').split(',').map(Number),
  msgs: (n: number): number => envInt(`BENCH_MSGS_${n}`, n <= 8 ? 400 : 800),
  size: envInt('BENCH_SIZE', 4096),
  rounds: Math.max(1, envInt('BENCH_ROUNDS', 2)),
  warmup: envInt('BENCH_WARMUP', 100),
  runTimeoutS: envInt('BENCH_RUN_TIMEOUT', 120),
  drainTimeoutS: envInt('BENCH_DRAIN_TIMEOUT', 30),
  quietPct: envInt('BENCH_QUIET_PCT', 30),
  quietWaitS: envInt('BENCH_QUIET_WAIT', 3),
  dnsCache: envInt('BENCH_DNS_CACHE', 0),
  // unbound (what a site runs) when its binary exists, else core/testing/dns-server.ts
  dns: (process.env.BENCH_DNS ?? (unboundAvailable() ? 'unbound' : 'node')) as DnsKind,
  slow: process.env.BENCH_SLOW !== '0', // 0: skip the slow-DNS check
  slowDelayMs: envInt('BENCH_SLOW_DELAY_MS', 2000),
  slowSessions: envInt('BENCH_SLOW_SESSIONS', 32),
  slowMsgs: envInt('BENCH_SLOW_MSGS', 128),
  fastMsgs: envInt('BENCH_FAST_MSGS', 600),
  probeEveryMs: Math.max(50, envInt('BENCH_PROBE_MS', 250)),
  profile: process.env.BENCH_PROFILE ?? 'auto', // auto: only when full < 50 % of bare
  profileMsgs: envInt('BENCH_PROFILE_MSGS', 600),
  profileOnly: process.env.BENCH_PROFILE_ONLY === '1', // skip the throughput and slow-DNS parts
  // Ablation: `dnsbl;clamav;dmarc+dkim-verify` measures the full set and the full set without each
  // group (CPU per message of each plugin, with everything else as in the full run); only that.
  ablate: (process.env.BENCH_ABLATE ?? '').split(';').map((g) => g.split('+').map((x) => x.trim()).filter(Boolean)).filter((g) => g.length),
  maxSeconds: envInt('BENCH_MAX_SECONDS', 900),
  results: path.resolve(REPO, process.env.BENCH_RESULTS ?? 'bench/RESULTS.md'),
  smtpSource: process.env.SMTP_SOURCE ?? '/usr/sbin/smtp-source',
  // How clamav reaches clamd: tcp (127.0.0.1, the default so far) or unix (clamd's LocalSocket,
  // Debian's default clamd setup and the clamav README's example); stub: over TCP to
  // clamd-stub.mjs, which reads every message and answers OK without scanning ("excluding
  // clamd's own CPU", the target's wording, as a measurement rather than a subtraction).
  clamd: (process.env.BENCH_CLAMD ?? 'tcp') as 'tcp' | 'unix' | 'stub',
};
const WORK = process.env.BENCH_WORK ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-prot-'));
const PIDS = path.join(WORK, 'pids'); // run.sh's trap kills what is listed here
fs.mkdirSync(PIDS, { recursive: true });
const t0 = Date.now();
const deadline = t0 + S.maxSeconds * 1000;
const log = (m: string): void => void process.stderr.write(`[prot ${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const ms = (ticks: number): number => (ticks / CLK_TCK) * 1000;

// ---- processes -----------------------------------------------------------------------


interface Server extends RunningPochta { variant: Variant; name: string }
const servers = new Set<Server>();
let current: ChildProcess | undefined;

async function launch(variant: Variant, name: string, dns: BenchDns, clamd: TestClamd, nodeFlags?: string[], omit?: readonly string[]): Promise<Server> {
  const port = await freePort();
  const p = startPochta({ repo: REPO, work: WORK, variant, port, dnsServer: dns.server, clamdPort: clamd.port, ...(S.clamd === 'unix' ? { clamdSocket: clamd.socket } : {}), dnsCacheEntries: S.dnsCache, nodeFlags, ...(omit ? { omit } : {}) }, name);
  fs.writeFileSync(path.join(PIDS, `${name}.pgid`), `${p.pid}\n`);
  const srv: Server = { ...p, variant, name };
  servers.add(srv);
  await waitForGreeting(port, 90, () => p.child.exitCode === null && p.child.signalCode === null, { probeMs: 3000, pauseMs: 300 });
  if (p.training > 0) await waitLearned(p.logFile, p.training);
  log(`${name} (${variant}) on 127.0.0.1:${port}, pid ${p.pid}${p.training ? `, classifier trained on ${p.training} messages` : ''}`);
  return srv;
}
async function stopServer(s: Server): Promise<void> {
  await killGroup(s.pid, 15_000);
  fs.rmSync(path.join(PIDS, `${s.name}.pgid`), { force: true });
  servers.delete(s);
}

const DNS_TEXT: Record<DnsKind, string> = {
  unbound: 'unbound (Debian\'s, a local caching resolver as sites run) on 127.0.0.1, all names from local data, nothing recursed, its own process',
  node: 'core/testing/dns-server.ts (dns2) in a child process',
};
async function startDns(kind: DnsKind): Promise<BenchDns> {
  const pidFile = path.join(PIDS, `dns-${kind}.pgid`); // run.sh's backstop kills it if we cannot
  const onPid = (pid: number): void => fs.writeFileSync(pidFile, `${pid}\n`);
  const d = kind === 'unbound' ? await startUnbound(path.join(WORK, 'unbound'), onPid) : await startNodeDns(onPid);
  dnsRefs.add(d);
  return d;
}
async function stopDns(d: BenchDns): Promise<void> {
  await d.stop();
  fs.rmSync(path.join(PIDS, `dns-${d.kind}.pgid`), { force: true });
  dnsRefs.delete(d);
}

// ---- one smtp-source run ---------------------------------------------------------------

function smtpSource(sessions: number, count: number, port: number): Promise<{ rc: number | string; counter: number; ms: number; stderr: string }> {
  return new Promise((resolve) => {
    const args = ['-c', '-s', String(sessions), '-m', String(count), '-l', String(S.size), '-M', HELO_NAME, '-f', FROM, '-t', RCPT, `127.0.0.1:${port}`];
    const start = performance.now();
    const child = spawn(S.smtpSource, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    if (child.pid !== undefined) fs.writeFileSync(path.join(PIDS, 'smtp-source.pgid'), `${child.pid}\n`);
    let tail = '';
    let counter = 0;
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      tail = (tail + d.toString('latin1')).slice(-64);
      const m = /(\d+)\s*$/.exec(tail.replace(/[\r\n]+$/, ''));
      if (m) counter = Number(m[1]);
    });
    child.stderr.on('data', (d: Buffer) => { if (stderr.length < 4000) stderr += d.toString(); });
    const timer = setTimeout(() => child.kill('SIGTERM'), S.runTimeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      fs.rmSync(path.join(PIDS, 'smtp-source.pgid'), { force: true });
      resolve({ rc: code ?? `signal ${signal}`, counter, ms: performance.now() - start, stderr: stderr.trim() });
    });
  });
}

function landedFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(dir, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      if (e.name === 'new') for (const f of fs.readdirSync(p, { withFileTypes: true })) { if (f.isFile()) out.push(path.join(p, f.name)); }
      else if (e.name !== 'tmp' && e.name !== 'cur') walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}
const clearLanded = (root: string): void => { for (const f of landedFiles(root)) fs.rmSync(f, { force: true }); };


interface Row {
  label: string;
  variant: Variant;
  sessions: number;
  sent: number;
  accepted: number;
  landed: number;
  acceptS: number;
  landedPerS: number;
  pochtaCpuMsPerMsg: number;
  clamdCpuMsPerMsg: number;
  dnsCpuMsPerMsg: number;
  dnsQueriesPerMsg: number;
  peakRssMb: number;
  clamdRssMb: number;
  dnsRssMb: number;
  busyBeforePct: number;
  otherPct: number;
  error?: string;
}

async function measure(s: Server, label: string, sessions: number, count: number, ctx: { dns: BenchDns; clamdPid: number }): Promise<Row> {
  clearLanded(s.mailRoot);
  await sleep(500);
  const busyBeforePct = await waitQuiet(S.quietPct, S.quietWaitS);
  const machine0 = cpuTotals();
  const self0 = readStat('self')?.ticks ?? 0;
  const cpu0 = treeTicks(s.pid);
  const clam0 = readStat(ctx.clamdPid)?.ticks ?? 0;
  const dns0 = readStat(ctx.dns.pid)?.ticks ?? 0;
  const q0 = await ctx.dns.queries();
  const rss = new RssSampler(s.pid);
  const clamRss = new RssSampler(ctx.clamdPid);
  const dnsRss = new RssSampler(ctx.dns.pid);
  rss.start();
  clamRss.start();
  dnsRss.start();
  const start = performance.now();
  const src = await smtpSource(sessions, count, s.port);
  let landed = landedFiles(s.mailRoot).length;
  let lastAt = performance.now();
  const end = Date.now() + S.drainTimeoutS * 1000;
  for (let i = 0; i < 100_000 && landed < src.counter && Date.now() < end; i++) {
    await sleep(20);
    const n = landedFiles(s.mailRoot).length;
    if (n !== landed) lastAt = performance.now();
    landed = n;
  }
  const landedS = (Math.max(lastAt, start + src.ms) - start) / 1000;
  const peak = rss.stop();
  const clamPeak = clamRss.stop();
  const dnsPeak = dnsRss.stop();
  const cpu = treeTicks(s.pid) - cpu0;
  const clam = (readStat(ctx.clamdPid)?.ticks ?? 0) - clam0;
  const dnsCpu = (readStat(ctx.dns.pid)?.ticks ?? 0) - dns0;
  const self = (readStat('self')?.ticks ?? 0) - self0; // driver + reaped smtp-source and unbound-control
  const machine1 = cpuTotals();
  const queries = (await ctx.dns.queries()) - q0;
  const other = machine1.busy - machine0.busy - cpu - clam - dnsCpu - self;
  const row: Row = {
    label, variant: s.variant, sessions, sent: count, accepted: src.counter, landed, acceptS: src.ms / 1000,
    landedPerS: landedS > 0 ? landed / landedS : 0,
    pochtaCpuMsPerMsg: landed > 0 ? ms(cpu) / landed : NaN,
    clamdCpuMsPerMsg: landed > 0 ? ms(clam) / landed : NaN,
    dnsCpuMsPerMsg: landed > 0 ? ms(dnsCpu) / landed : NaN,
    dnsQueriesPerMsg: landed > 0 ? queries / landed : NaN,
    peakRssMb: peak / 2 ** 20,
    clamdRssMb: clamPeak / 2 ** 20,
    dnsRssMb: dnsPeak / 2 ** 20,
    busyBeforePct,
    otherPct: Math.max(0, (100 * other) / Math.max(1, machine1.total - machine0.total)),
  };
  if (src.rc !== 0) row.error = `smtp-source rc=${src.rc}: ${src.stderr.split('\n').slice(-2).join(' | ')}`;
  if (landed < src.counter) row.error = `${row.error ? `${row.error}; ` : ''}only ${landed}/${src.counter} landed`;
  if (src.counter < count) row.error = `${row.error ? `${row.error}; ` : ''}${count - src.counter} not accepted`;
  log(`${label} s=${sessions}: ${landed}/${count} landed, ${fmt(row.landedPerS)} msg/s, Pochta ${fmt(row.pochtaCpuMsPerMsg, 2)} CPU ms/msg, clamd ${fmt(row.clamdCpuMsPerMsg, 2)}, DNS ${fmt(row.dnsCpuMsPerMsg, 3)} (${fmt(row.dnsQueriesPerMsg, 1)} q/msg), RSS ${fmt(row.peakRssMb)} MB, other ${fmt(row.otherPct)}%${row.error ? ` — ${row.error}` : ''}`);
  return row;
}

// ---- slow DNS ------------------------------------------------------------------------

interface SlowRow {
  delayMs: number;
  sessions: number;
  sent: number;
  accepted: number;
  landed: number;
  acceptS: number;
  msgsPerS: number;
  probes: ProbeResult[];
  probeFailed: number;
  dnsQueriesPerMsg: number;
}

async function slowCheck(s: Server, dns: BenchDns, delayMs: number, count: number): Promise<SlowRow> {
  if (!dns.setDelay) throw new Error(`slow-DNS check: the ${dns.kind} DNS server cannot delay answers`);
  clearLanded(s.mailRoot);
  await dns.setDelay(delayMs);
  await sleep(500);
  const q0 = await dns.queries();
  const probes = probeLoop(s.port, HELO_NAME, S.probeEveryMs, Math.ceil((S.runTimeoutS * 1000) / S.probeEveryMs), 30_000);
  const src = await smtpSource(S.slowSessions, count, s.port);
  const pr = await probes.stop();
  await dns.setDelay(0);
  await sleep(1000);
  const queries = (await dns.queries()) - q0;
  const landed = landedFiles(s.mailRoot).length;
  const row: SlowRow = {
    delayMs, sessions: S.slowSessions, sent: count, accepted: src.counter, landed, acceptS: src.ms / 1000,
    msgsPerS: src.counter / (src.ms / 1000), probes: pr.results, probeFailed: pr.failed,
    dnsQueriesPerMsg: src.counter > 0 ? queries / src.counter : NaN,
  };
  const p = (k: keyof ProbeResult, q: number): string => fmt(percentile(pr.results.map((r) => r[k]), q), 1);
  log(`slow DNS ${delayMs} ms: ${src.counter}/${count} accepted in ${fmt(row.acceptS, 1)} s = ${fmt(row.msgsPerS, 1)} msg/s; probes ${pr.results.length} ok/${pr.failed} failed; NOOP p50/p99 ${p('noopMs', 50)}/${p('noopMs', 99)} ms, greeting ${p('greetMs', 50)}/${p('greetMs', 99)}, EHLO ${p('ehloMs', 50)}/${p('ehloMs', 99)}`);
  return row;
}

// ---- profile -------------------------------------------------------------------------

interface Profiles { bare: ProfileSummary; full: ProfileSummary; msgs: number }

/** Profiles one variant: a fresh Pochta with --cpu-prof, warm-up, 32 sessions × profileMsgs, SIGTERM. */
async function profileVariant(variant: Variant, dns: BenchDns, clamd: TestClamd): Promise<ProfileSummary | string> {
  const dir = path.join(WORK, `cpuprof-${variant}`);
  fs.mkdirSync(dir, { recursive: true });
  const s = await launch(variant, `pochta-prof-${variant}`, dns, clamd, ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500']);
  await smtpSource(8, 100, s.port); // warm-up (JIT, caches): left out of the summary below
  const skipMs = Date.now() - s.spawnedAt;
  const run = await smtpSource(32, S.profileMsgs, s.port);
  // SIGTERM: Pochta shuts down cleanly and V8 writes the profile on exit.
  await stopServer(s);
  if (run.counter !== S.profileMsgs) return `${variant}: only ${run.counter}/${S.profileMsgs} accepted during the profile run`;
  // One file per thread (CPU.<date>.<time>.<pid>.<thread>.<seq>): thread 0 is the main thread,
  // the others are tsx's module-loader worker (start-up only).
  const main = fs.readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!main) return `${variant}: no .cpuprofile of the main thread written (Pochta did not exit cleanly on SIGTERM?)`;
  fs.copyFileSync(path.join(dir, main), path.join(WORK, `${variant}.cpuprofile`));
  return summarise(path.join(dir, main), 25, skipMs);
}

async function profileBoth(dns: BenchDns, clamd: TestClamd): Promise<Profiles | string> {
  const bare = await profileVariant('bare', dns, clamd);
  if (typeof bare === 'string') return bare;
  const full = await profileVariant('full', dns, clamd);
  if (typeof full === 'string') return full;
  return { bare, full, msgs: S.profileMsgs };
}

// ---- report --------------------------------------------------------------------------

function sampleHeaders(root: string): string[] {
  const f = landedFiles(root)[0];
  if (!f) return [];
  const head = fs.readFileSync(f, 'latin1').split(/\r?\n\r?\n/)[0] ?? '';
  return head.split(/\r?\n(?=\S)/).filter((h) => /^(X-Spam-|X-Virus-Scan|Authentication-Results|Received-SPF|X-Policy-Check)/i.test(h))
    .map((h) => h.replace(/\r?\n\s+/g, ' ').slice(0, 300));
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] ?? NaN) : ((s[m - 1] ?? 0) + (s[m] ?? 0)) / 2;
}

function report(rows: Row[], slow: SlowRow[], prof: Profiles | string | undefined, headers: string[], loadStart: string, problems: string[]): string {
  const when = new Date(t0).toISOString().replace(/\.\d+Z$/, 'Z');
  const L: string[] = [`## Inbound protection: ${when} — bare core vs full protection set`, ''];
  // Judged by what other work took during the runs, not by the load average (it lags by minutes).
  const busiest = Math.max(0, ...rows.map((r) => r.otherPct));
  const loadEnd = fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  L.push(
    (busiest > 10
      ? `**The machine was loaded**: other work took up to ${fmt(busiest)} % of it during a run (load average at start ${loadStart}, at end ${loadEnd}). Absolute msg/s are therefore low and noisy; `
      : `The machine was quiet during the runs (other work ≤ ${fmt(busiest)} %; load average at start ${loadStart}, at end ${loadEnd}); `) +
      'bare and full ran interleaved (bare, full, bare, full per cell) so the ratio is fair. ' +
      '*other %* = machine CPU used by anything but Pochta, clamd, the DNS server, smtp-source and the harness during the run.',
    '',
    `Setup: \`bash bench/protection/run.sh\` (see bench/protection/README.md). Node ${process.version}, ${os.availableParallelism()} CPUs. ` +
      `smtp-source -c -s <sessions> -m <N> -l ${S.size} -M ${HELO_NAME} (new connection per message, HELO, 1 rcpt); ` +
      `Pochta 1 worker, spool + Maildir fsync on, log level info, each variant its own data dir. DNS (\`BENCH_DNS=${S.dns}\`${process.env.BENCH_DNS || S.dns === 'unbound' ? '' : ', unbound not installed'}): ${DNS_TEXT[S.dns]}, ` +
      `\`dns.client: ${process.env.BENCH_DNS_CLIENT ?? 'pochta'}\`${process.env.BENCH_DNS_CLIENT === 'node' ? ' (c-ares, BENCH_DNS_CLIENT=node)' : ' (the built-in stub client)'}, ` +
      `\`dns.cache.maxEntries: ${S.dnsCache}\` (${S.dnsCache === 0 ? 'cache off: every session really asks, as distinct real clients would' : 'cache on'}). ` +
      (S.clamd === 'stub'
        ? 'clamd: **a stub** (bench/protection/clamd-stub.mjs, BENCH_CLAMD=stub) reached over TCP on 127.0.0.1: it reads every message the clamav plugin streams and answers OK without scanning, so clamd\'s own CPU is out of the run, as the target asks. bare = '
        : `clamd: core/testing/clamd.ts (2 test signatures), reached over ${S.clamd === 'unix' ? 'its unix socket (BENCH_CLAMD=unix)' : 'TCP on 127.0.0.1'}. bare = `) + 'relay-acl, auth-file, aliases, local-domains, maildir; ' +
      'full = bare + dnsbl (2 block zones + 1 allow zone, checkPrivate), helo-rdns (checkPrivate), spf, dkim-verify, dmarc, clamav, spam-score (defaults, its Bayes classifier trained on ' +
      `${TRAIN_PER_CLASS} spam + ${TRAIN_PER_CLASS} ham messages with \`pochta spam learn\` before the run, so the classifier runs on every message; greylist and rate-limit off).`,
    '',
  );
  if (rows.length) L.push(
    `| run | variant | sessions | sent | accepted | landed | msg/s (landed) | Pochta CPU ms/msg | clamd CPU ms/msg | DNS (${S.dns}) CPU ms/msg | DNS queries/msg | peak RSS MB (Pochta) | clamd RSS MB | DNS RSS MB | other % before/during |`,
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of rows)
    L.push(`| ${r.label} | ${r.variant} | ${r.sessions} | ${r.sent} | ${r.accepted} | ${r.landed} | ${fmt(r.landedPerS)} | ${fmt(r.pochtaCpuMsPerMsg, 2)} | ${fmt(r.clamdCpuMsPerMsg, 2)} | ${fmt(r.dnsCpuMsPerMsg, 3)} | ${fmt(r.dnsQueriesPerMsg, 1)} | ${fmt(r.peakRssMb)} | ${fmt(r.clamdRssMb)} | ${fmt(r.dnsRssMb, 1)} | ${fmt(r.busyBeforePct)} / ${fmt(r.otherPct)} |`);
  const errs = rows.filter((r) => r.error);
  if (errs.length) L.push('', 'Problems:', '', ...errs.map((r) => `- ${r.label} s=${r.sessions}: ${r.error}`));
  L.push('', '### Ratio full / bare (medians over the interleaved rounds, unlisted client)', '',
    `Excluded from the Pochta CPU columns and shown apart: clamd's CPU (the target excludes it) and the DNS server's (${S.dns}; a site's resolver, not Pochta). ` +
      'Both still ran on the same 2 cores during the run, so they are inside the msg/s figures.', '',
    '| sessions | bare msg/s | full msg/s | full/bare msg/s | bare CPU ms/msg | full CPU ms/msg (Pochta) | + clamd ms/msg | + DNS server ms/msg (full) | target ≥ 50 % |', '|---:|---:|---:|---:|---:|---:|---:|---:|---|');
  for (const n of S.sessions) {
    const pick = (v: Variant): Row[] => rows.filter((r) => r.variant === v && r.sessions === n && r.label.startsWith('round'));
    const b = pick('bare');
    const f = pick('full');
    const bm = median(b.map((r) => r.landedPerS));
    const fm = median(f.map((r) => r.landedPerS));
    const ratio = fm / bm;
    L.push(`| ${n} | ${fmt(bm)} | ${fmt(fm)} | ${fmt(100 * ratio)} % | ${fmt(median(b.map((r) => r.pochtaCpuMsPerMsg)), 2)} | ${fmt(median(f.map((r) => r.pochtaCpuMsPerMsg)), 2)} | ${fmt(median(f.map((r) => r.clamdCpuMsPerMsg)), 2)} | ${fmt(median(f.map((r) => r.dnsCpuMsPerMsg)), 3)} | ${Number.isFinite(ratio) ? (ratio >= 0.5 ? 'met' : '**missed**') : 'n/a'} |`);
  }
  L.push('', 'CPU-bound view (independent of the load from other jobs): on a saturated machine the accept rate ≈ available CPU ÷ CPU per message, ' +
    'so full/bare throughput excluding clamd and the DNS server ≈ bare Pochta CPU ms/msg ÷ full Pochta CPU ms/msg.');
  if (headers.length) L.push('', 'Headers of one delivered message from the full run, unlisted and listed (the checks did run):', '', '```', ...headers, '```');
  if (slow.length) {
    L.push('', `### Slow DNS: every answer delayed, full set, ${S.slowSessions} sessions, probes every ${S.probeEveryMs} ms on their own connections`, '',
      `DNS here: core/testing/dns-server.ts in a child process (it can delay every answer; unbound cannot)${S.dns === 'unbound' ? ', with its own fresh full Pochta pointed at it' : ''}.`, '',
      '| DNS delay | sent | accepted | landed | seconds | msg/s | DNS queries/msg | probes ok / failed | NOOP p50 / p99 ms | 220 greeting p50 / p99 ms | EHLO p50 / p99 ms |',
      '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const r of slow) {
      const p = (k: keyof ProbeResult): string => `${fmt(percentile(r.probes.map((x) => x[k]), 50), 1)} / ${fmt(percentile(r.probes.map((x) => x[k]), 99), 1)}`;
      L.push(`| ${r.delayMs} ms | ${r.sent} | ${r.accepted} | ${r.landed} | ${fmt(r.acceptS, 1)} | ${fmt(r.msgsPerS, 1)} | ${fmt(r.dnsQueriesPerMsg, 1)} | ${r.probes.length} / ${r.probeFailed} | ${p('noopMs')} | ${p('greetMs')} | ${p('ehloMs')} |`);
    }
  }
  if (typeof prof === 'string') L.push('', `Profile: ${prof}`);
  else if (prof) {
    const per = (x: number): string => fmt(x / prof.msgs, 3);
    const area = (p: ProfileSummary, a: string) => p.areas.find((x) => x.area === a);
    L.push('', `### CPU profile: bare vs full (node --cpu-prof on a fresh Pochta child each, 32 sessions × ${prof.msgs} messages after 100 warm-up; start-up and warm-up left out)`, '',
      `Main thread busy: bare ${per(prof.bare.sampledMs)} ms/msg, full ${per(prof.full.sampledMs)} ms/msg. ` +
      '*self* = time in that area\'s own functions (adds up to the total), *incl* = time with the area anywhere on the stack (synchronous part only: ' +
      'work resumed from an I/O callback is charged to node:internal/(native), not to the plugin that started it).', '',
      '| area | bare self ms/msg | full self ms/msg | Δ self ms/msg | full incl ms/msg | full incl % |', '|---|---:|---:|---:|---:|---:|');
    for (const a of prof.full.areas.slice(0, 32)) {
      const b = area(prof.bare, a.area);
      L.push(`| ${a.area} | ${per(b?.selfMs ?? 0)} | ${per(a.selfMs)} | ${per(a.selfMs - (b?.selfMs ?? 0))} | ${per(a.inclMs)} | ${fmt(a.inclPct, 1)} |`);
    }
    L.push('', 'Top functions of the full set by self time:', '', '| function | self ms/msg | % of busy |', '|---|---:|---:|');
    for (const t of prof.full.topSelf) L.push(`| \`${t.name.replace(/\|/g, '\\|')}\` | ${per(t.ms)} | ${fmt(t.pct, 1)} |`);
  }
  if (problems.length) L.push('', 'Not run / problems:', '', ...problems.map((p) => `- ${p}`));
  L.push('', `Total harness time: ${fmt((Date.now() - t0) / 1000)} s.`, '');
  return L.join('\n');
}

// ---- main ----------------------------------------------------------------------------

let cleaning = false;
const dnsRefs = new Set<BenchDns>();
let clamdRef: TestClamd | undefined;
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  current?.kill('SIGKILL');
  for (const s of [...servers]) await stopServer(s).catch(() => undefined);
  await clamdRef?.stop().catch(() => undefined);
  fs.rmSync(path.join(PIDS, 'clamd.pid'), { force: true });
  for (const d of [...dnsRefs]) await stopDns(d).catch(() => undefined);
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
  process.on(sig, () => { log(`${sig}: cleaning up`); void cleanup().finally(() => process.exit(130)); });

/** The interleaved bare/full rounds, the listed variant and the slow-DNS check. */
async function throughput(dns: BenchDns, clamd: TestClamd, ctx: { dns: BenchDns; clamdPid: number }, rows: Row[], slow: SlowRow[], headers: string[], problems: string[]): Promise<void> {
  // BENCH_NODE_FLAGS: extra node flags for both servers (e.g. --perf-basic-prof, --trace-deopt).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const bare = await launch('bare', 'pochta-bare', dns, clamd, nodeFlags);
  const full = await launch('full', 'pochta-full', dns, clamd, nodeFlags);
  if (S.warmup > 0) for (const s of [bare, full]) await measure(s, 'warm-up', 8, S.warmup, ctx);
  for (let r = 1; r <= S.rounds; r++)
    for (const n of S.sessions)
      for (const s of [bare, full]) {
        if (Date.now() > deadline) { problems.push(`round ${r} ${s.variant} s=${n}: time budget`); continue; }
        rows.push(await measure(s, `round ${r}`, n, S.msgs(n), ctx));
      }
  headers.push('# not listed', ...sampleHeaders(full.mailRoot));
  // Variant where the block lists answer (client listed, action tag: mail still lands, tagged).
  await dns.setListed(true);
  for (const n of S.sessions) if (Date.now() < deadline) rows.push(await measure(full, 'listed', n, S.msgs(n), ctx));
  await dns.setListed(false);
  headers.push('# listed on both block lists', ...sampleHeaders(full.mailRoot));
  await stopServer(bare);

  if (S.slow && Date.now() < deadline) {
    // The slow check needs a DNS server that can delay (dns-server.ts); with unbound, a fresh
    // full Pochta is pointed at one started for the check.
    const slowDns = dns.setDelay ? dns : await startDns('node');
    const target = slowDns === dns ? full : await launch('full', 'pochta-slow', slowDns, clamd);
    if (target !== full) await stopServer(full);
    slow.push(await slowCheck(target, slowDns, 0, S.fastMsgs));
    if (Date.now() < deadline) slow.push(await slowCheck(target, slowDns, S.slowDelayMs, S.slowMsgs));
    await stopServer(target);
    if (slowDns !== dns) await stopDns(slowDns);
  }
  if (servers.has(full)) await stopServer(full);
}

/**
 * What each protection plugin costs: the full set and the full set without each group, all
 * started at once and measured in interleaved rounds (32 sessions), medians of Pochta's CPU.
 */
async function ablation(dns: BenchDns, clamd: TestClamd, ctx: { dns: BenchDns; clamdPid: number }, problems: string[]): Promise<string> {
  const variants: Array<{ name: string; omit: string[] }> = [{ name: 'full', omit: [] }, ...S.ablate.map((g) => ({ name: `full − ${g.join(' − ')}`, omit: g }))];
  const srvs: Array<{ name: string; s: Server }> = [];
  // BENCH_NODE_FLAGS: extra node flags for these servers (e.g. --perf-basic-prof for perf(1)).
  const flags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  for (const [i, v] of variants.entries()) srvs.push({ name: v.name, s: await launch('full', `pochta-ablate-${i}`, dns, clamd, flags, v.omit) });
  if (S.warmup > 0) for (const { s } of srvs) await measure(s, 'warm-up', 8, S.warmup, ctx);
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const n = S.sessions[S.sessions.length - 1] ?? 32;
  for (let r = 1; r <= S.rounds; r++) {
    for (const { name, s } of r % 2 ? srvs : [...srvs].reverse()) {
      if (Date.now() > deadline) { problems.push(`ablation round ${r} ${name}: time budget`); continue; }
      const row = await measure(s, `round ${r} ${name}`, n, S.msgs(n), ctx);
      if (!row.error) cpu.get(name)?.push(row.pochtaCpuMsPerMsg);
    }
  }
  for (const { s } of srvs) await stopServer(s);
  const full = median(cpu.get('full') ?? []);
  const lines = [
    `## Inbound protection: ablation ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')} — CPU per message of each plugin`, '',
    `\`BENCH_ABLATE='${process.env.BENCH_ABLATE ?? ''}' bash bench/protection/run.sh\`: the full set and the full set without each group, ${n} sessions × ${S.msgs(n)} messages, ${S.rounds} interleaved rounds, DNS ${S.dns}, cache ${S.dnsCache}. Pochta CPU ms per message (process tree, /proc), median of the rounds; cost = full − variant.`, '',
    '| variant | Pochta CPU ms/msg (median) | per round | cost of the omitted plugins ms/msg |', '|---|---:|---|---:|',
    ...variants.map((v) => {
      const xs = cpu.get(v.name) ?? [];
      const m = median(xs);
      return `| ${v.name} | ${fmt(m, 2)} | ${xs.map((x) => x.toFixed(2)).join(', ')} | ${v.omit.length ? fmt(full - m, 2) : ''} |`;
    }),
  ];
  if (problems.length) lines.push('', `Not measured: ${problems.join('; ')}.`);
  return lines.join('\n');
}

let clamdStubPid: number | undefined;

/** clamd-stub.mjs on a free port, as a child whose CPU is measured where clamd's would be. */
async function startClamdStub(): Promise<TestClamd> {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(REPO, 'bench', 'protection', 'clamd-stub.mjs'), String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  clamdStubPid = child.pid;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('clamd-stub did not start within 10 s')), 10_000);
    child.stdout.once('data', () => { clearTimeout(timer); resolve(); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`clamd-stub exited (${String(code)})`)); });
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopped ??= new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  }));
  return { host: '127.0.0.1', port, socket: '', stop };
}

async function main(): Promise<void> {
  if (!fs.existsSync(S.smtpSource)) throw new Error(`${S.smtpSource} missing (Debian package postfix)`);
  const loadStart = fs.readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  if (S.dns !== 'unbound' && S.dns !== 'node') throw new Error(`BENCH_DNS=${String(S.dns)}: want unbound or node`);
  if (S.dns === 'unbound' && !unboundAvailable()) throw new Error('BENCH_DNS=unbound but /usr/sbin/unbound(-control) missing (apt-get install unbound; run.sh does)');
  const dns = await startDns(S.dns);
  const clamd = S.clamd === 'stub' ? await startClamdStub() : await startClamd();
  clamdRef = clamd;
  const clamdPid = S.clamd === 'stub' ? clamdStubPid : allStats().find((p) => p.ppid === process.pid && p.comm === 'clamd')?.pid;
  if (!clamdPid) throw new Error('clamd process not found below the harness');
  fs.writeFileSync(path.join(PIDS, 'clamd.pid'), `${clamdPid}\n`);
  log(`DNS: ${S.dns}${process.env.BENCH_DNS ? '' : ` (default: ${unboundAvailable() ? 'unbound found' : 'no unbound binary'})`} on ${dns.server} pid ${dns.pid}, clamd ${S.clamd === 'unix' ? clamd.socket : `127.0.0.1:${clamd.port}`} pid ${clamdPid}, work ${WORK}`);
  const ctx = { dns, clamdPid };
  const problems: string[] = [];
  const rows: Row[] = [];
  const slow: SlowRow[] = [];
  const headers: string[] = [];
  if (S.ablate.length) {
    const section = await ablation(dns, clamd, ctx, problems);
    appendSection(S.results, section);
    process.stdout.write(`${section}\n`);
    log(`appended to ${path.relative(REPO, S.results)}`);
    return;
  }
  if (!S.profileOnly) await throughput(dns, clamd, ctx, rows, slow, headers, problems);

  let prof: Profiles | string | undefined;
  const ratios = S.sessions.map((n) => {
    const m = (v: Variant): number => median(rows.filter((x) => x.variant === v && x.sessions === n && x.label.startsWith('round')).map((x) => x.landedPerS));
    return m('full') / m('bare');
  });
  const want = S.profile === '1' || S.profileOnly || (S.profile === 'auto' && ratios.some((x) => !(x >= 0.5)));
  if (want && Date.now() < deadline) {
    log('profiling bare and full');
    prof = await profileBoth(dns, clamd);
  } else if (want) problems.push('profile: time budget');

  const section = report(rows, slow, prof, headers, loadStart, problems);
  appendSection(S.results, section);
  fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify({ settings: S, rows, slow: slow.map((r) => ({ ...r, probes: r.probes.length })), prof }, null, 2));
  process.stdout.write(`${section}\n`);
  log(`appended to ${path.relative(REPO, S.results)}`);
}

runDriver(main, cleanup, log);
