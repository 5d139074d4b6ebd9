// SMTP accept-throughput benchmark: Pochta vs Postfix 3.7 vs Haraka 3.3 on 127.0.0.1.
//
// This is a BENCHMARK, not a test. Entry point: bench/smtp/run.sh (which installs the
// prerequisites, creates the work dir and traps cleanup), i.e. from the repo root:
//     bash bench/smtp/run.sh
// It drives every server with Postfix's smtp-source (new connection per message), counts
// what landed on disk, measures CPU and memory of the server's process tree, and appends
// a section to bench/RESULTS.md. See bench/smtp/README.md.
//
// Every loop here is bounded in count and time; traffic goes to 127.0.0.1 only.

import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { envInt, envList } from '../lib/env.ts';
import { killGroup, pidAlive } from '../lib/group.ts';
import { freePort, waitForGreeting } from '../lib/net.ts';
import { pochtaVersion } from '../lib/version.ts';
import { waitQuiet } from '../lib/quiet.ts';
import { runDriver } from '../lib/main.ts';
import { appendSection } from '../lib/results.ts';
import { benchServerYaml } from '../lib/pochta-yaml.ts';
import { CLK_TCK, cpuTotals, pssBytes, readStat, rssBytes, treeSysTicks, treeTicks, tree } from '../lib/proc.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const LOOPBACK = '127.0.0.1'; // the only address this script ever connects to
const FROM = 'from@bench.test';
const RCPT = 'user@bench.test';
/** Pochta's worker processes (its `workers` config key). 1 by default: with every message going to one mailbox, two workers contend on its lock (measured slower here). */
const POCHTA_WORKERS = Number(process.env.BENCH_POCHTA_WORKERS ?? 1);

// ---------------------------------------------------------------------------------------
// Settings (all from the environment; defaults keep the whole run well under 10 minutes)
// ---------------------------------------------------------------------------------------


/** Messages per run for a given session count: BENCH_MSGS_<n>, else built-in defaults. */
function messagesFor(sessions: number): number {
  const dflt: Record<number, number> = { 1: 300, 8: 1500, 32: 3000 };
  return envInt(`BENCH_MSGS_${sessions}`, dflt[sessions] ?? Math.min(3000, Math.max(300, sessions * 150)));
}

const settings = {
  servers: envList('BENCH_SERVERS', 'postfix,haraka,pochta,bare'),
  sessions: envList('BENCH_SESSIONS', '1,8,32').map(Number),
  sizes: envList('BENCH_SIZES', '4096,102400').map(Number),
  warmup: envInt('BENCH_WARMUP', 200),
  runTimeoutS: envInt('BENCH_RUN_TIMEOUT', 120),
  drainTimeoutS: envInt('BENCH_DRAIN_TIMEOUT', 60),
  maxSeconds: envInt('BENCH_MAX_SECONDS', 540),
  sampleMs: Math.max(20, envInt('BENCH_SAMPLE_MS', 100)),
  pauseMs: envInt('BENCH_PAUSE_MS', 1000),
  repeat: Math.max(1, envInt('BENCH_REPEAT', 1)),
  quietPct: envInt('BENCH_QUIET_PCT', 15),
  quietWaitS: envInt('BENCH_QUIET_WAIT', 10),
  results: path.resolve(REPO, process.env.BENCH_RESULTS ?? 'bench/RESULTS.md'),
  label: process.env.BENCH_LABEL ?? '',
  harakaNodes: process.env.HARAKA_NODES ?? '1',
  pochtaSkip: process.env.POCHTA_SKIP === '1',
  smtpSource: process.env.SMTP_SOURCE ?? '/usr/sbin/smtp-source',
  postfixBin: process.env.POSTFIX_BIN ?? '/usr/sbin/postfix',
};
for (const s of settings.sessions) if (!Number.isInteger(s) || s < 1 || s > 1000) throw new Error(`bad session count ${s}`);
for (const s of settings.sizes) if (!Number.isInteger(s) || s < 1 || s > 50_000_000) throw new Error(`bad size ${s}`);

const WORK = process.env.BENCH_WORK ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-bench-'));
const PIDS_DIR = path.join(WORK, 'pids'); // run.sh's trap kills what is listed here
fs.mkdirSync(PIDS_DIR, { recursive: true });
const startedAt = Date.now();
const deadline = startedAt + settings.maxSeconds * 1000;

function log(msg: string): void {
  const t = ((Date.now() - startedAt) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${t}s] ${msg}\n`);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// /proc accounting
// ---------------------------------------------------------------------------------------

/** Samples Σ RSS and Σ PSS of a process tree every sampleMs; bounded by stop(). */
class MemSampler {
  peakRss = 0;
  peakPss = 0;
  samples = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly root: number) {}
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), settings.sampleMs);
  }
  sample(): void {
    let rss = 0;
    let pss = 0;
    for (const p of tree(this.root)) {
      rss += rssBytes(p.pid);
      pss += pssBytes(p.pid);
    }
    this.peakRss = Math.max(this.peakRss, rss);
    this.peakPss = Math.max(this.peakPss, pss);
    this.samples++;
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.sample();
  }
}

// ---------------------------------------------------------------------------------------
// Helpers: ports, readiness, Maildir counting, process groups
// ---------------------------------------------------------------------------------------



/** Regular files inside every directory named "new" below root (Maildir deliveries). */
function maildirNewFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number): void => {
    if (depth > 8) return;
    let ents: fs.Dirent[];
    try {
      ents = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of ents) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) {
        if (e.name === 'new') {
          for (const f of fs.readdirSync(p, { withFileTypes: true })) if (f.isFile()) out.push(path.join(p, f.name));
        } else if (e.name !== 'tmp' && e.name !== 'cur') walk(p, depth + 1);
      }
    }
  };
  walk(root, 0);
  return out;
}
function countFiles(dir: string, depth = 0): number {
  if (depth > 4) return 0;
  let n = 0;
  let ents: fs.Dirent[];
  try {
    ents = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of ents) n += e.isDirectory() ? countFiles(path.join(dir, e.name), depth + 1) : 1;
  return n;
}

function registerPid(name: string, pid: number): void {
  fs.writeFileSync(path.join(PIDS_DIR, `${name}.pgid`), `${pid}\n`);
}
function unregisterPid(name: string): void {
  fs.rmSync(path.join(PIDS_DIR, `${name}.pgid`), { force: true });
}

function spawnServer(name: string, cmd: string, args: string[], env: NodeJS.ProcessEnv, logFile: string): ChildProcess {
  const out = fs.openSync(logFile, 'a');
  const child = spawn(cmd, args, { cwd: REPO, env, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  registerPid(name, child.pid);
  child.unref();
  return child;
}
const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null;

// ---------------------------------------------------------------------------------------
// Servers
// ---------------------------------------------------------------------------------------

interface RunningServer {
  name: string;
  version: string;
  port: number;
  /** Root of the process tree whose CPU/memory is measured (all descendants are included). */
  rootPid: () => number;
  /** Where messages land: every file in a Maildir new/ below this directory is one delivery. */
  maildirRoot: string;
  /** Messages accepted but not yet on their final disk place (Postfix queue); 0 if none. */
  pending: () => number;
  notes: string[];
  logFile: string;
  stop: () => Promise<void>;
}

// ---- Postfix 3.7: private instance (own config/queue/data dirs), `postfix -c DIR` ----

function runPostfix(dir: string, cmd: string): void {
  // Postfix only prints its errors to stderr when that is a tty (else: syslog, which
  // does not run here), so on failure re-run under script(1) to show the reason.
  const r = spawnSync(settings.postfixBin, ['-c', dir, cmd], { encoding: 'utf8' });
  if (r.status === 0) return;
  const again = spawnSync('script', ['-qec', `${settings.postfixBin} -c ${dir} ${cmd}`, '/dev/null'], {
    encoding: 'utf8',
  });
  throw new Error(`postfix -c ${dir} ${cmd} failed (${r.status}): ${(again.stdout || r.stderr || '').trim()}`);
}

async function startPostfix(): Promise<RunningServer> {
  const base = path.join(WORK, 'postfix');
  const etc = path.join(base, 'etc');
  const spool = path.join(base, 'spool');
  const data = path.join(base, 'data');
  const mail = path.join(base, 'mail');
  for (const d of [etc, spool, data, mail]) fs.mkdirSync(d, { recursive: true });
  const port = await freePort();
  const uid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
  fs.chownSync(data, uid, gid);
  fs.chownSync(mail, uid, gid); // virtual(8) creates the Maildir as virtual_uid_maps' uid
  const maillog = path.join(base, 'maillog');
  // Defaults are Postfix's own unless listed: fsync of queue files and of maildir files is
  // built in (there is no knob to turn it off). No chroot; loopback only; no DNS needed.
  fs.writeFileSync(
    path.join(etc, 'main.cf'),
    `# Written by bench/smtp/run.ts: a private Postfix instance for the benchmark only.
compatibility_level = 3.6
config_directory = ${etc}
queue_directory = ${spool}
data_directory = ${data}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-bench.localdomain
mydomain = localdomain
myorigin = $myhostname
mydestination =
inet_interfaces = ${LOOPBACK}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relay_domains =
smtpd_recipient_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_peername_lookup = no
virtual_mailbox_domains = bench.test
virtual_mailbox_base = ${mail}
virtual_mailbox_maps = texthash:${etc}/vmailbox
virtual_uid_maps = static:${uid}
virtual_gid_maps = static:${gid}
alias_maps =
alias_database =
biff = no
maillog_file = ${maillog}
maillog_file_prefixes = ${base}
`,
  );
  fs.writeFileSync(path.join(etc, 'vmailbox'), `${RCPT} bench.test/user/Maildir/\n`);
  // Debian's master.cf with chroot turned off (chroot needs /etc files copied into the
  // queue dir) and the smtpd listener on our loopback port instead of :25.
  fs.writeFileSync(
    path.join(etc, 'master.cf'),
    `# service type  private unpriv  chroot  wakeup  maxproc command
${LOOPBACK}:${port} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`,
  );
  fs.writeFileSync(path.join(PIDS_DIR, 'postfix.confdir'), `${etc}\n`); // for run.sh's trap
  runPostfix(etc, 'check'); // creates the queue subdirectories with the right owners
  runPostfix(etc, 'start');
  const pidFile = path.join(spool, 'pid', 'master.pid');
  let master = 0;
  for (let i = 0; i < 100 && master === 0; i++) {
    try {
      master = Number(fs.readFileSync(pidFile, 'utf8').trim()) || 0;
    } catch {
      /* not yet */
    }
    if (master === 0) await sleep(100);
  }
  if (master === 0) throw new Error(`postfix master did not write ${pidFile}`);
  await waitForGreeting(port, 30, () => pidAlive(master));
  const version = execFileSync('postconf', ['-c', etc, '-h', 'mail_version']).toString().trim();
  return {
    name: 'postfix',
    version: `Postfix ${version}`,
    port,
    rootPid: () => master,
    maildirRoot: mail,
    pending: () =>
      ['maildrop', 'incoming', 'active', 'deferred', 'hold'].reduce((a, q) => a + countFiles(path.join(spool, q)), 0),
    notes: [
      'private instance: `postfix -c <tmp>/etc start`, own queue/data dirs, master.cf without chroot',
      'smtpd → cleanup (queue file fsync) → qmgr → virtual(8) Maildir (fsync); all processes under master counted',
      'logs via postlogd to a file (maillog_file)',
    ],
    logFile: maillog,
    stop: async () => {
      try {
        runPostfix(etc, 'stop');
      } catch (e) {
        log(`postfix stop: ${(e as Error).message}; trying abort`);
        try {
          runPostfix(etc, 'abort');
        } catch {
          /* fall through to kill */
        }
      }
      for (let i = 0; i < 100 && pidAlive(master); i++) await sleep(100);
      if (pidAlive(master)) process.kill(master, 'SIGKILL');
      fs.rmSync(path.join(PIDS_DIR, 'postfix.confdir'), { force: true });
    },
  };
}

// ---- Haraka 3.3 from bench/haraka (own package.json), local durable queue plugin ----

async function startHaraka(): Promise<RunningServer> {
  const pkgDir = path.join(REPO, 'bench', 'haraka');
  const harakaBin = path.join(pkgDir, 'node_modules', 'Haraka', 'bin', 'haraka');
  if (!fs.existsSync(harakaBin)) throw new Error(`${harakaBin} missing: run (cd bench/haraka && npm ci --omit=optional)`);
  const version = (JSON.parse(fs.readFileSync(path.join(pkgDir, 'node_modules', 'Haraka', 'package.json'), 'utf8')) as {
    version: string;
  }).version;
  const inst = path.join(WORK, 'haraka');
  const cfg = path.join(inst, 'config');
  const maildir = path.join(WORK, 'haraka-mail');
  fs.mkdirSync(cfg, { recursive: true });
  // Haraka's own default config files first (connection.ini etc. are required), then ours.
  fs.cpSync(path.join(pkgDir, 'node_modules', 'Haraka', 'config'), cfg, { recursive: true });
  for (const f of ['plugins', 'me', 'log.ini']) fs.copyFileSync(path.join(pkgDir, 'config', f), path.join(cfg, f));
  fs.cpSync(path.join(pkgDir, 'plugins'), path.join(inst, 'plugins'), { recursive: true });
  const port = await freePort();
  const nodes = settings.harakaNodes;
  fs.writeFileSync(
    path.join(cfg, 'smtp.ini'),
    fs
      .readFileSync(path.join(pkgDir, 'config', 'smtp.ini.in'), 'utf8')
      .replaceAll('@PORT@', String(port))
      .replaceAll('@NODES@', nodes),
  );
  const logFile = path.join(WORK, 'haraka.log');
  const child = spawnServer(
    'haraka',
    process.execPath,
    [harakaBin, '-c', inst],
    { ...process.env, BENCH_HARAKA_MAILDIR: path.join(maildir, 'user', 'Maildir') },
    logFile,
  );
  const pid = child.pid!;
  await waitForGreeting(port, 60, () => !exited(child));
  return {
    name: 'haraka',
    version: `Haraka ${version}`,
    port,
    rootPid: () => pid,
    maildirRoot: maildir,
    pending: () => 0,
    notes: [
      `\`haraka -c <tmp>\`, smtp.ini nodes=${nodes} (cluster master + ${nodes} worker(s), all counted), Haraka default config files`,
      'only plugin: bench/haraka/plugins/bench_maildir.js (rDNS answered locally, rcpt @bench.test OK, queue = Maildir write + fsync(file) + rename + fsync(dir) before 250)',
      'log level info, to a file',
    ],
    logFile,
    stop: async () => {
      await killGroup(pid);
      unregisterPid('haraka');
    },
  };
}

// ---- bare smtp-server: the library alone, writing Maildir with fsync (the floor the issue names) ----

async function startBare(): Promise<RunningServer> {
  const port = await freePort();
  const maildir = path.join(WORK, 'bare-mail');
  const logFile = path.join(WORK, 'bare.log');
  const child = spawnServer(
    'bare',
    process.execPath,
    [path.join(REPO, 'bench', 'smtp', 'bare-server.mjs'), String(port), path.join(maildir, 'user', 'Maildir')],
    { ...process.env, NODE_ENV: 'production' },
    logFile,
  );
  const pid = child.pid!;
  await waitForGreeting(port, 60, () => !exited(child));
  const version = (JSON.parse(fs.readFileSync(path.join(REPO, 'node_modules', 'smtp-server', 'package.json'), 'utf8')) as { version: string }).version;
  return {
    name: 'bare',
    version: `smtp-server ${version}`,
    port,
    rootPid: () => pid,
    maildirRoot: maildir,
    pending: () => 0,
    notes: [
      'bench/smtp/bare-server.mjs: the library alone (no hooks, config, logging or Received header), 100 ms greeting pause removed, ' +
        'rcpt @bench.test OK, Maildir write + fsync(file) + rename + fsync(dir) before 250 — a reference floor, not a mail server',
    ],
    logFile,
    stop: async () => {
      await killGroup(pid);
      unregisterPid('bare');
    },
  };
}

// ---- Pochta ---------------------------------------------------------------------------

/**
 * Starts Pochta on 127.0.0.1:port delivering user@bench.test into a Maildir below
 * maildirRoot, and returns when it greets.
 */
async function startPochtaServer(port: number, maildirRoot: string): Promise<{ child: ChildProcess; logFile: string; configFile: string }> {
  const configFile = path.join(WORK, 'pochta.yaml');
  // Pochta's config: plain SMTP on the MX listener only, no DNS, the default plugins that
  // matter for this path (auth-file holds the one user, local-domains accepts it, maildir
  // delivers with fsync of file and directory), spool fsync on (the default), log level info.
  const dataDir = path.join(WORK, 'pochta-data');
  const yaml = benchServerYaml({ writer: 'bench/smtp/run.ts', hostname: 'pochta-bench.localdomain', dataDir, workers: POCHTA_WORKERS, port }) + `plugins:
  auth-file: {}
  local-domains: { domains: [bench.test] }
  maildir: { root: ${maildirRoot} }
`;
  fs.writeFileSync(configFile, yaml);
  // The recipient is a real user, added the way an admin would.
  const add = spawnSync(process.execPath, [path.join(REPO, 'bin', 'pochta.js'), '--config', configFile, 'user', 'add', RCPT], {
    input: 'bench-password-123\n', cwd: REPO, encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`pochta user add failed: ${add.stderr}`);
  const logFile = path.join(WORK, 'pochta.log');
  const child = spawnServer(
    'pochta',
    process.execPath,
    [path.join(REPO, 'bin', 'pochta.js'), 'start', '--config', configFile],
    { ...process.env, NODE_ENV: 'production' },
    logFile,
  );
  await waitForGreeting(port, 60, () => !exited(child));
  return { child, logFile, configFile };
}

function pochtaSkipReason(): string | undefined {
  if (settings.pochtaSkip) return 'POCHTA_SKIP=1';
  if (!fs.existsSync(path.join(REPO, 'core', 'cli', 'main.ts'))) return 'core/cli/main.ts not present yet';
  return undefined;
}

async function startPochta(): Promise<RunningServer> {
  const port = await freePort();
  const maildir = path.join(WORK, 'pochta-mail');
  fs.mkdirSync(maildir, { recursive: true });
  const { child, logFile } = await startPochtaServer(port, maildir);
  const pid = child.pid!;
  const version = pochtaVersion(REPO);
  return {
    name: 'pochta',
    version,
    port,
    rootPid: () => pid,
    maildirRoot: maildir,
    pending: () => 0,
    notes: [`\`pochta start --config <tmp>/pochta.yaml\` (TypeScript through tsx), workers: ${POCHTA_WORKERS}, plugins auth-file + local-domains + maildir, spool and Maildir fsync on, log level info`],
    logFile,
    stop: async () => {
      await killGroup(pid);
      unregisterPid('pochta');
    },
  };
}

const STARTERS: Record<string, () => Promise<RunningServer>> = {
  postfix: startPostfix,
  haraka: startHaraka,
  pochta: startPochta,
  bare: startBare,
};

// ---------------------------------------------------------------------------------------
// One measured run
// ---------------------------------------------------------------------------------------

interface RunResult {
  server: string;
  sessions: number;
  size: number;
  sent: number; // messages smtp-source was asked to send
  accepted: number; // DATA commands smtp-source saw complete (its -c counter)
  landed: number; // files that appeared in Maildir new/
  smtpSourceRc: number | string;
  acceptS: number; // wall time of smtp-source
  landedS: number; // from start until the last message landed (≥ acceptS)
  msgsPerS: number; // accepted / acceptS
  landedPerS: number; // landed / landedS
  cpuMsPerMsg: number; // server process tree CPU / landed
  sysMsPerMsg: number; // the kernel part of it (stime)
  clientMsPerMsg: number; // smtp-source + this driver, per landed message
  peakRssMb: number;
  peakPssMb: number;
  otherCpuPct: number; // machine CPU not used by server, smtp-source or this driver, % of all cores
  busyBeforePct: number; // machine CPU busy just before the run (quiet gate), % of all cores
  repeats?: number; // runs of this cell; the median (by landed msg/s) is reported
  error?: string;
}

let current: ChildProcess | undefined; // the running smtp-source, killed on exit
let cleaning = false; // set once cleanup has begun: no new work is started after that

function runSmtpSource(sessions: number, count: number, size: number, port: number, timeoutS: number) {
  if (cleaning) return Promise.reject(new Error('interrupted'));
  return new Promise<{ rc: number | string; counter: number; stderr: string; ms: number }>((resolve) => {
    const args = ['-c', '-s', String(sessions), '-m', String(count), '-l', String(size), '-f', FROM, '-t', RCPT, `${LOOPBACK}:${port}`];
    const t0 = performance.now();
    // own process group, listed for run.sh's trap in case this driver dies hard
    const child = spawn(settings.smtpSource, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    current = child;
    if (child.pid !== undefined) registerPid('smtp-source', child.pid);
    let counter = 0;
    let tail = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      tail = (tail + d.toString('latin1')).slice(-64);
      const m = /(\d+)\s*$/.exec(tail.replace(/[\r\n]+$/, ''));
      if (m) counter = Number(m[1]);
    });
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutS * 1000);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = undefined;
      unregisterPid('smtp-source');
      resolve({ rc: code ?? `signal ${signal}`, counter, stderr: stderr.trim(), ms: performance.now() - t0 });
    });
  });
}

function clearLanded(root: string): void {
  for (const f of maildirNewFiles(root)) fs.rmSync(f, { force: true });
}


async function measure(srv: RunningServer, sessions: number, size: number, count: number): Promise<RunResult> {
  clearLanded(srv.maildirRoot);
  await sleep(settings.pauseMs);
  const busyBeforePct = await waitQuiet(settings.quietPct, settings.quietWaitS, (pct) =>
    log(`machine busy (${fmt(pct)}% CPU), waiting up to ${settings.quietWaitS}s for it to calm down`));
  const root = srv.rootPid();
  const selfBefore = readStat('self')!.ticks;
  const machineBefore = cpuTotals();
  const cpuBefore = treeTicks(root);
  const sysBefore = treeSysTicks(root);
  const sampler = new MemSampler(root);
  sampler.start();
  const t0 = performance.now();
  const src = await runSmtpSource(sessions, count, size, srv.port, settings.runTimeoutS);
  // Wait (bounded) until everything accepted has landed and the server's queue is empty.
  let landed = maildirNewFiles(srv.maildirRoot).length;
  let lastLandAt = landed > 0 ? performance.now() : t0;
  const drainEnd = Date.now() + settings.drainTimeoutS * 1000;
  for (let i = 0; i < 100_000 && Date.now() < drainEnd; i++) {
    if (landed >= src.counter && srv.pending() === 0) break;
    await sleep(20);
    const n = maildirNewFiles(srv.maildirRoot).length;
    if (n !== landed) lastLandAt = performance.now();
    landed = n;
  }
  const landedS = (Math.max(lastLandAt, t0 + src.ms) - t0) / 1000;
  sampler.stop();
  const cpuTicks = treeTicks(root) - cpuBefore;
  const sysTicks = treeSysTicks(root) - sysBefore;
  const machineAfter = cpuTotals();
  const selfTicks = readStat('self')!.ticks - selfBefore; // this driver + reaped smtp-source
  const ncpu = os.availableParallelism();
  const elapsedTicks = (machineAfter.total - machineBefore.total) / ncpu;
  const otherTicks = machineAfter.busy - machineBefore.busy - cpuTicks - selfTicks;
  const acceptS = src.ms / 1000;
  const r: RunResult = {
    server: srv.name,
    sessions,
    size,
    sent: count,
    accepted: src.counter,
    landed,
    smtpSourceRc: src.rc,
    acceptS,
    landedS,
    msgsPerS: src.counter / acceptS,
    landedPerS: landedS > 0 ? landed / landedS : 0,
    cpuMsPerMsg: landed > 0 ? ((cpuTicks / CLK_TCK) * 1000) / landed : NaN,
    sysMsPerMsg: landed > 0 ? ((sysTicks / CLK_TCK) * 1000) / landed : NaN,
    clientMsPerMsg: landed > 0 ? ((selfTicks / CLK_TCK) * 1000) / landed : NaN,
    peakRssMb: sampler.peakRss / 2 ** 20,
    peakPssMb: sampler.peakPss / 2 ** 20,
    otherCpuPct: elapsedTicks > 0 ? Math.max(0, (100 * otherTicks) / (elapsedTicks * ncpu)) : 0,
    busyBeforePct,
  };
  if (src.rc !== 0) r.error = `smtp-source rc=${src.rc}: ${src.stderr.split('\n').slice(-2).join(' | ')}`;
  if (landed < src.counter) r.error = `${r.error ? `${r.error}; ` : ''}only ${landed}/${src.counter} landed`;
  return r;
}

// ---------------------------------------------------------------------------------------
// Machine description and report
// ---------------------------------------------------------------------------------------

function sh(cmd: string, args: string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return (r.stdout ?? '').trim();
}
function machine(): string[] {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuinfo)?.[1] ?? 'unknown';
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  const fsLine = sh('findmnt', ['-no', 'SOURCE,FSTYPE,OPTIONS', '-T', WORK]);
  const dev = fsLine.split(/\s+/)[0]?.replace('/dev/', '') ?? '';
  let disk = '';
  try {
    const rot = fs.readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim();
    const sched = fs.readFileSync(`/sys/block/${dev}/queue/scheduler`, 'utf8').trim();
    disk = `, /sys/block/${dev}: rotational=${rot}, scheduler ${sched}`;
  } catch {
    /* not a plain block device */
  }
  return [
    `- CPU: ${os.availableParallelism()} × ${model} (nproc ${sh('nproc', [])})`,
    `- memory: ${(memKb / 2 ** 20).toFixed(1)} GiB`,
    `- kernel: ${os.type()} ${os.release()} (${os.arch()}); ${sh('sh', ['-c', '. /etc/os-release && echo "$PRETTY_NAME"'])}`,
    `- disk holding the queues/Maildirs (${WORK}): ${fsLine}${disk}`,
    `- Node ${process.version}; client: ${settings.smtpSource} (from Debian postfix ${sh('dpkg-query', ['-W', '-f=${Version}', 'postfix']) || '?'})`,
    `- load average at start: ${fs.readFileSync('/proc/loadavg', 'utf8').trim()}`,
  ];
}

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toFixed(d) : 'n/a');
const sizeLabel = (b: number): string => (b % 1024 === 0 ? `${b / 1024} KB` : `${b} B`);

function report(results: RunResult[], servers: Map<string, RunningServer | string>, mach: string[], skipped: string[]): string {
  const when = new Date(startedAt).toISOString().replace(/\.\d+Z$/, 'Z');
  const partial = skipped.length > 0 || results.some((r) => r.error);
  const title = `## Run ${when}${partial && !/partial/i.test(settings.label) ? ' — PARTIAL' : ''}${settings.label ? ` — ${settings.label}` : ''}`;
  const L: string[] = [title, ''];
  if (skipped.length) L.push(`**Partial run:** ${skipped.join('; ')}.`, '');
  L.push('### Machine', '', ...mach, '');
  L.push('### Servers', '');
  for (const [name, s] of servers) {
    if (typeof s === 'string') L.push(`- **${name}**: not run — ${s}`);
    else L.push(`- **${name}** (${s.version}): ${s.notes.join('; ')}`);
  }
  L.push(
    '',
    `Client: \`smtp-source -c -s <sessions> -m <messages> -l <size> -f ${FROM} -t ${RCPT} ${LOOPBACK}:<port>\` ` +
      `(one new TCP connection per message, HELO, no pipelining). Messages per run: ` +
      settings.sessions.map((s) => `${s} session(s) → ${messagesFor(s)}`).join(', ') +
      `; warm-up ${settings.warmup} messages (8 sessions, 4 KB) per server, not counted; ` +
      `${settings.repeat === 1 ? 'one run per cell' : `median of ${settings.repeat} runs per cell (by landed msg/s)`}; ` +
      `before each run the harness waited up to ${settings.quietWaitS} s for machine CPU ≤ ${settings.quietPct}%.`,
    '',
    '### Results',
    '',
    '| server | sessions | size | sent | accepted | landed | accept s | msg/s (accept) | msg/s (landed) | CPU ms/msg | of which kernel | client CPU ms/msg | peak RSS MB (Σ tree) | peak PSS MB (Σ tree) | other CPU % before / during |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const r of results) {
    L.push(
      `| ${r.server} | ${r.sessions} | ${sizeLabel(r.size)} | ${r.sent} | ${r.accepted} | ${r.landed}${r.landed < r.sent ? ' ⚠' : ''} | ${fmt(r.acceptS, 2)} | ${fmt(r.msgsPerS)} | ${fmt(r.landedPerS)} | ${fmt(r.cpuMsPerMsg, 2)} | ${fmt(r.sysMsPerMsg, 2)} | ${fmt(r.clientMsPerMsg, 2)} | ${fmt(r.peakRssMb)} | ${fmt(r.peakPssMb)} | ${fmt(r.busyBeforePct)} / ${fmt(r.otherCpuPct)} |`,
    );
  }
  const errs = results.filter((r) => r.error);
  if (errs.length) {
    L.push('', 'Problems:', '');
    for (const r of errs) L.push(`- ${r.server} ${r.sessions}×${sizeLabel(r.size)}: ${r.error}`);
  }
  // Ratios: msg/s uses landed throughput (a server that drops mail cannot win); CPU/msg per landed message.
  const get = (s: string, n: number, z: number): RunResult | undefined =>
    results.find((r) => r.server === s && r.sessions === n && r.size === z);
  const ratio = (a: number | undefined, b: number | undefined, d = 2): string =>
    a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) && b > 0 ? fmt(a / b, d) : 'n/a';
  L.push(
    '',
    '### Ratios',
    '',
    'Throughput ratios use landed msg/s; CPU ratios use CPU ms per landed message (lower is better).',
    '',
    '| sessions | size | Pochta/Haraka msg/s | Pochta/Postfix msg/s | Pochta/Haraka CPU/msg | Pochta/Postfix CPU/msg | Haraka/Postfix msg/s | Pochta/bare msg/s | Haraka/bare msg/s |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  for (const z of settings.sizes)
    for (const n of settings.sessions) {
      const p = get('pochta', n, z);
      const h = get('haraka', n, z);
      const x = get('postfix', n, z);
      const b = get('bare', n, z);
      L.push(
        `| ${n} | ${sizeLabel(z)} | ${ratio(p?.landedPerS, h?.landedPerS)} | ${ratio(p?.landedPerS, x?.landedPerS)} | ${ratio(p?.cpuMsPerMsg, h?.cpuMsPerMsg)} | ${ratio(p?.cpuMsPerMsg, x?.cpuMsPerMsg)} | ${ratio(h?.landedPerS, x?.landedPerS)} | ${ratio(p?.landedPerS, b?.landedPerS)} | ${ratio(h?.landedPerS, b?.landedPerS)} |`,
      );
    }
  L.push(
    '',
    'Column notes: *accepted* = DATA commands answered 2xx as counted by smtp-source `-c`; *landed* = files in Maildir `new/` after the run ' +
      '(Postfix: after its queue drained, bounded by BENCH_DRAIN_TIMEOUT); *msg/s (landed)* = landed ÷ time until the last one landed; ' +
      '*CPU ms/msg* = Δ(utime+stime+cutime+cstime) over the server process tree (/proc/<pid>/stat) ÷ landed, measured until drained; ' +
      '*of which kernel* = the stime+cstime part (socket writes, accept, fsync, rename: work no user-space saving removes); ' +
      '*client CPU ms/msg* = smtp-source plus this harness, per landed message (they share the same cores); ' +
      `*peak RSS/PSS* = largest sum over the tree, sampled every ${settings.sampleMs} ms (PSS splits shared pages, fairer for multi-process Postfix); ` +
      '*other CPU %* = machine CPU (without irq/softirq, where loopback TCP is processed) in % of all cores: *before* = whole machine in the 0.5 s before the run, ' +
      '*during* = used by anything but the server, smtp-source and the harness — well above 0 means other work shared the 2 cores and the row is pessimistic.',
    '',
    `Total harness time: ${fmt((Date.now() - startedAt) / 1000)} s.`,
    '',
  );
  return L.join('\n');
}

function writeResults(section: string): void {
  const header = `# Benchmark results

Written by the benchmark harnesses under \`bench/\` (not tests). Newest run last.
SMTP accept throughput: \`bash bench/smtp/run.sh\` — what it measures is in \`bench/smtp/README.md\`.

`;
  appendSection(settings.results, section, header);
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

const running = new Set<RunningServer>();
async function cleanup(): Promise<void> {
  if (cleaning) return;
  cleaning = true;
  current?.kill('SIGKILL');
  for (const s of running) {
    try {
      await s.stop();
    } catch (e) {
      log(`stopping ${s.name}: ${(e as Error).message}`);
    }
  }
  running.clear();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    log(`${sig}: cleaning up`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  if (!fs.existsSync(settings.smtpSource)) throw new Error(`${settings.smtpSource} missing (apt-get install postfix); run via bench/smtp/run.sh`);
  const fsType = sh('findmnt', ['-no', 'FSTYPE', '-T', WORK]);
  if (/tmpfs|ramfs/.test(fsType) && process.env.BENCH_ALLOW_TMPFS !== '1')
    throw new Error(`work dir ${WORK} is on ${fsType}: fsync would be free; set BENCH_TMPDIR to a disk-backed dir`);
  const mach = machine();
  log(`work dir ${WORK}; servers ${settings.servers.join(',')}; sessions ${settings.sessions.join(',')}; sizes ${settings.sizes.join(',')}`);
  const results: RunResult[] = [];
  const servers = new Map<string, RunningServer | string>();
  const skipped: string[] = [];
  for (const name of settings.servers) {
    const starter = STARTERS[name];
    if (!starter) throw new Error(`unknown server ${name} (known: ${Object.keys(STARTERS).join(', ')})`);
    const why = name === 'pochta' ? pochtaSkipReason() : undefined;
    if (why) {
      log(`skipping ${name}: ${why}`);
      servers.set(name, `skipped (${why})`);
      skipped.push(`${name} skipped (${why})`);
      continue;
    }
    if (Date.now() > deadline) {
      servers.set(name, 'not reached before BENCH_MAX_SECONDS');
      skipped.push(`${name} not run (time budget BENCH_MAX_SECONDS=${settings.maxSeconds} used up)`);
      continue;
    }
    if (cleaning) break;
    log(`starting ${name}`);
    let srv: RunningServer;
    try {
      srv = await starter();
    } catch (e) {
      const msg = (e as Error).message;
      log(`${name} failed to start: ${msg}`);
      servers.set(name, `failed to start: ${msg}`);
      skipped.push(`${name} failed to start`);
      continue;
    }
    running.add(srv);
    servers.set(name, srv);
    log(`${srv.version} listening on ${LOOPBACK}:${srv.port} (root pid ${srv.rootPid()})`);
    try {
      if (settings.warmup > 0) {
        const w = await measure(srv, 8, 4096, settings.warmup);
        log(`warm-up: ${w.landed}/${w.sent} landed, ${fmt(w.msgsPerS)} msg/s${w.error ? ` (${w.error})` : ''}`);
      }
      for (const size of settings.sizes)
        for (const sessions of settings.sessions) {
          if (Date.now() > deadline) {
            skipped.push(`${name} ${sessions}×${sizeLabel(size)} not run (time budget)`);
            continue;
          }
          const reps: RunResult[] = [];
          for (let k = 0; k < settings.repeat && (k === 0 || Date.now() < deadline); k++)
            reps.push(await measure(srv, sessions, size, messagesFor(sessions)));
          // median by landed throughput (a run with problems sorts as it measured)
          reps.sort((a, b) => a.landedPerS - b.landedPerS);
          const r = reps[Math.floor((reps.length - 1) / 2)];
          if (!r) continue;
          r.repeats = reps.length;
          results.push(r);
          log(
            `${name} s=${sessions} ${sizeLabel(size)}: ${r.landed}/${r.sent} landed, ${fmt(r.msgsPerS)} msg/s accept, ` +
              `${fmt(r.landedPerS)} landed/s, ${fmt(r.cpuMsPerMsg, 2)} CPU ms/msg, RSS ${fmt(r.peakRssMb)} MB, PSS ${fmt(r.peakPssMb)} MB` +
              `${r.error ? ` — ${r.error}` : ''}`,
          );
        }
      clearLanded(srv.maildirRoot);
    } finally {
      log(`stopping ${name}`);
      running.delete(srv);
      await srv.stop();
    }
  }
  const section = report(results, servers, mach, skipped);
  writeResults(section);
  fs.writeFileSync(path.join(WORK, 'results.json'), JSON.stringify({ settings, results }, null, 2));
  process.stdout.write(`${section}\n`);
  log(`appended to ${path.relative(REPO, settings.results) || settings.results}`);
}

runDriver(main, cleanup, log);
