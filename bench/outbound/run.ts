/**
 * Outbound delivery benchmark (127.0.0.1 only): the same load delivered to Postfix's smtp-sink
 * by Pochta's outbound engine and by a private Postfix 3.7 instance relaying to the same sink, in
 * one run. Run it through bench/outbound/run.sh (root: Postfix's master must start as root).
 *
 * Both take the messages the same way: smtp-source over SMTP while remote delivery is held
 * (Pochta: `pochta queue hold`; Postfix: `defer_transports = smtp`); then the hold is lifted and
 * only that delivery phase is measured, until the queue is empty and the sink counted every
 * message (CPU of the whole server: Pochta's process, every process under Postfix's master).
 * Appends a section to bench/RESULTS.md (or to $BENCH_RESULTS).
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RemoteQueueAdmin } from '../../core/queue/control-client.ts';
import { killGroup, pidAlive } from '../lib/group.ts';
import { freePort } from '../lib/net.ts';
import { benchServerYaml } from '../lib/pochta-yaml.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
const WORK = process.env.BENCH_WORK ?? fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-obench-'));
const num = (k: string, d: number) => Number(process.env[k] ?? d);
const S = {
  messages: num('BENCH_MESSAGES', 2000),
  rcpts: num('BENCH_RCPTS', 3),
  size: num('BENCH_SIZE', 4096),
  concurrency: num('BENCH_CONCURRENCY', 20),
  rounds: num('BENCH_ROUNDS', 2),
  timeoutS: num('BENCH_TIMEOUT_S', 300),
  /** Pochta's `workers` (processes, each with its own scheduler over the messages it received). */
  pochtaWorkers: num('BENCH_POCHTA_WORKERS', 1),
  /** Pochta's `queue.concurrency` (messages in delivery at once); 2 × BENCH_CONCURRENCY by default. */
  pochtaQueue: num('BENCH_POCHTA_QUEUE', num('BENCH_CONCURRENCY', 20) * 2),
};
const LOOPBACK = '127.0.0.1';
const TICK = 100; // USER_HZ on Linux
const children: ChildProcess[] = [];
let postfixEtc: string | undefined;

const log = (m: string) => process.stderr.write(`[bench] ${m}\n`);


/** utime+stime (ticks) and RSS (kB) of a process and its descendants. */
function treeStats(root: number): { ticks: number; rssKb: number; procs: number } {
  const parent = new Map<number, number>();
  const stat = new Map<number, { ticks: number; rssKb: number }>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      stat.set(Number(d), { ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]), rssKb: Number(f[21]) * 4 });
    } catch {
      /* gone */
    }
  }
  const inTree = (pid: number): boolean => {
    for (let p = pid, i = 0; p > 1 && i < 64; p = parent.get(p) ?? 0, i++) if (p === root) return true;
    return false;
  };
  let ticks = 0;
  let rssKb = 0;
  let procs = 0;
  for (const [pid, s] of stat) {
    if (!inTree(pid)) continue;
    ticks += s.ticks;
    rssKb += s.rssKb;
    procs++;
  }
  return { ticks, rssKb, procs };
}

function startSink(port: number): ChildProcess {
  // -u: drop root; 1024: listen backlog. It accepts everything and keeps nothing.
  // -D: every message is appended, with its envelope, to one file (counted at the end of each phase).
  fs.mkdirSync(path.dirname(SINK_DUMP), { recursive: true });
  fs.chownSync(path.dirname(SINK_DUMP), Number(execFileSync('id', ['-u', 'nobody']).toString().trim()), 0);
  const c = spawn('/usr/sbin/smtp-sink', ['-u', 'nobody', '-D', SINK_DUMP, `${LOOPBACK}:${port}`, '1024'], { stdio: 'ignore', detached: true });
  children.push(c);
  return c;
}

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, LOOPBACK, () => {
        s.destroy();
        r(true);
      });
      s.once('error', () => r(false));
    });
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port}`);
}

function postfix(etc: string, ...args: string[]): string {
  const r = spawnSync('/usr/sbin/postfix', ['-c', etc, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`postfix ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function countFiles(dir: string): number {
  let n = 0;
  if (!fs.existsSync(dir)) return 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  return n;
}

interface Result { server: string; msgsPerS: number; cpuMsPerMsg: number; rssMb: number; delivered: number; seconds: number }

async function runPostfix(sinkPort: number): Promise<Result> {
  const base = path.join(WORK, 'postfix');
  const etc = path.join(base, 'etc');
  const spool = path.join(base, 'spool');
  const data = path.join(base, 'data');
  fs.rmSync(base, { recursive: true, force: true });
  for (const d of [etc, spool, data]) fs.mkdirSync(d, { recursive: true });
  const uid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postfix']).toString().trim());
  fs.chownSync(data, uid, gid);
  const smtpdPort = await freePort();
  fs.writeFileSync(path.join(etc, 'main.cf'), `# bench/outbound/run.ts: private relay instance
compatibility_level = 3.6
config_directory = ${etc}
queue_directory = ${spool}
data_directory = ${data}
mail_owner = postfix
setgid_group = postdrop
myhostname = postfix-obench.localdomain
mydestination =
inet_interfaces = ${LOOPBACK}
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_recipient_restrictions = permit_mynetworks, reject
smtpd_peername_lookup = no
relayhost = [${LOOPBACK}]:${sinkPort}
smtp_tls_security_level = none
smtp_connection_cache_on_demand = yes
default_destination_concurrency_limit = ${S.concurrency}
default_process_limit = ${Math.max(100, S.concurrency * 2)}
defer_transports = smtp
alias_maps =
alias_database =
maillog_file = ${base}/maillog
maillog_file_prefixes = ${base}
`);
  fs.writeFileSync(path.join(etc, 'master.cf'), `${LOOPBACK}:${smtpdPort} inet n - n - - smtpd
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
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`);
  fs.writeFileSync(path.join(WORK, 'postfix.confdir'), `${etc}\n`);
  postfixEtc = etc;
  postfix(etc, 'check');
  postfix(etc, 'start');
  await waitPort(smtpdPort);
  const master = Number(fs.readFileSync(path.join(spool, 'pid', 'master.pid'), 'utf8').trim());
  // Inject: smtp-source, S.rcpts recipients per message, all held (defer_transports = smtp).
  log(`postfix: injecting ${S.messages} messages`);
  const src = spawnSync('/usr/sbin/smtp-source', ['-s', '10', '-m', String(S.messages), '-r', String(S.rcpts), '-l', String(S.size),
    '-f', 'bench@sender.test', '-t', 'u@d1.bench.test', `${LOOPBACK}:${smtpdPort}`], { encoding: 'utf8', timeout: S.timeoutS * 1000 });
  if (src.status !== 0) throw new Error(`smtp-source failed: ${src.stderr}`);
  const queued = () => ['incoming', 'active', 'deferred', 'maildrop'].reduce((a, q) => a + countFiles(path.join(spool, q)), 0);
  for (let i = 0; i < 600 && countFiles(path.join(spool, 'deferred')) < S.messages; i++) await sleep(100);
  log(`postfix: ${queued()} queued; lifting the hold and flushing`);
  await sleep(1000);
  spawnSync('/usr/sbin/postconf', ['-c', etc, '-e', 'defer_transports =']);
  postfix(etc, 'reload');
  await sleep(500);
  const before = treeStats(master);
  const sink0 = sinkTally();
  const t0 = performance.now();
  spawnSync('/usr/sbin/postqueue', ['-c', etc, '-f']);
  let peakRss = 0;
  await waitDelivered(queued, sink0.msgs, S.messages, () => {
    peakRss = Math.max(peakRss, treeStats(master).rssKb);
  });
  const seconds = (performance.now() - t0) / 1000;
  const sink1 = sinkTally();
  log(`postfix: the sink got ${sink1.msgs - sink0.msgs} transactions, ${sink1.rcpts - sink0.rcpts} recipients`);
  const after = treeStats(master);
  const left = queued();
  postfix(etc, 'stop');
  for (let i = 0; i < 100 && pidAlive(master); i++) await sleep(100);
  postfixEtc = undefined;
  const delivered = S.messages - left;
  return {
    server: `Postfix ${execFileSync('/usr/sbin/postconf', ['-d', '-h', 'mail_version']).toString().trim()}`,
    msgsPerS: delivered / seconds, cpuMsPerMsg: ((after.ticks - before.ticks) * 1000) / TICK / Math.max(1, delivered),
    rssMb: peakRss / 1024, delivered, seconds,
  };
}

const SINK_DUMP = path.join(WORK, 'sink', 'received.mbox');

/** What the sink got so far: it appends every message with its envelope (`-D`), one X-Mail-Args line per transaction. */
function sinkTally(): { msgs: number; rcpts: number } {
  let text: string;
  try {
    text = fs.readFileSync(SINK_DUMP, 'latin1');
  } catch {
    return { msgs: 0, rcpts: 0 };
  }
  return { msgs: text.match(/^X-Mail-Args: /gm)?.length ?? 0, rcpts: text.match(/^X-Rcpt-Args: /gm)?.length ?? 0 };
}

/** Wait (bounded) until the queue is empty, then until the sink has counted `want` more messages. */
async function waitDelivered(queued: () => number, sent0: number, want: number, sample: () => void): Promise<void> {
  const deadline = Date.now() + S.timeoutS * 1000;
  while (queued() > 0 && Date.now() < deadline) {
    sample();
    await sleep(20);
  }
  while (sinkTally().msgs - sent0 < want && Date.now() < deadline) await sleep(50);
}

function pochtaCli(config: string, ...args: string[]): string {
  const r = spawnSync(process.execPath, [path.join(REPO, 'bin', 'pochta.js'), '--config', config, ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pochta ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/**
 * Pochta through the path a user's mail takes: a whole server (`pochta start`) receives the
 * messages over SMTP from smtp-source (as Postfix does) while remote delivery is held
 * (`pochta queue hold`), then the hold is lifted over the control socket (what `pochta queue
 * release` sends) and only the delivery phase is timed: release → queue empty and every message
 * counted by the sink. CPU and RSS are the server process's (and any child's).
 */
async function runPochta(sinkPort: number): Promise<Result> {
  const base = path.join(WORK, 'pochta');
  fs.rmSync(base, { recursive: true, force: true });
  fs.mkdirSync(base, { recursive: true });
  const dataDir = path.join(base, 'data');
  const smtpPort = await freePort();
  const config = path.join(base, 'pochta.yaml');
  fs.writeFileSync(config, benchServerYaml({
    writer: 'bench/outbound/run.ts', hostname: 'pochta-obench.localdomain', dataDir, workers: S.pochtaWorkers, port: smtpPort,
    // Messages in delivery at once: more than the connections, so one is ready when a connection frees up.
    queue: [`concurrency: ${S.pochtaQueue}`],
  }) + `plugins:
  relay-acl: { networks: [127.0.0.0/8] }
  outbound:
    smarthost: { host: ${LOOPBACK}, port: ${sinkPort}, tls: none }
    concurrency: { total: ${S.concurrency}, perDestination: ${S.concurrency} }
    reuse: { maxMessages: 1000, idleMs: 5000 }
    mtaSts: { enabled: false }
`);
  const logFd = fs.openSync(path.join(base, 'pochta.log'), 'a');
  // BENCH_NODE_FLAGS: extra node flags for the server (e.g. `--cpu-prof --cpu-prof-dir=/tmp/p`).
  const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeFlags, path.join(REPO, 'bin', 'pochta.js'), 'start', '--config', config],
    { cwd: REPO, env: { ...process.env, NODE_ENV: 'production' }, detached: true, stdio: ['ignore', logFd, logFd] });
  fs.closeSync(logFd);
  children.push(child);
  const pid = child.pid!;
  try {
    await waitPort(smtpPort);
    pochtaCli(config, 'queue', 'hold');
    log(`pochta: injecting ${S.messages} messages`);
    const src = spawnSync('/usr/sbin/smtp-source', ['-s', '10', '-m', String(S.messages), '-r', String(S.rcpts), '-l', String(S.size),
      '-f', 'bench@sender.test', '-t', 'u@d1.bench.test', `${LOOPBACK}:${smtpPort}`], { encoding: 'utf8', timeout: S.timeoutS * 1000 });
    if (src.status !== 0) throw new Error(`smtp-source failed: ${src.stderr}`);
    const queueDir = path.join(dataDir, 'queue');
    const queued = () => fs.readdirSync(queueDir).filter((f) => f.endsWith('.env')).length;
    // Every message spooled, and read and parked by the scheduler (one "queue.parked" line each).
    const logFile = path.join(base, 'pochta.log');
    const parked = () => (fs.readFileSync(logFile, 'utf8').match(/"queue\.parked"/g) ?? []).length;
    for (let i = 0; i < 600 && (queued() < S.messages || parked() < S.messages); i++) await sleep(100);
    log(`pochta: ${queued()} queued, ${parked()} parked; releasing`);
    await sleep(1000);
    const socks = fs.readdirSync(dataDir).filter((f) => /^control(-\d+)?\.sock$/.test(f)).map((f) => path.join(dataDir, f));
    if (socks.length !== S.pochtaWorkers) throw new Error(`${socks.length} control sockets for ${S.pochtaWorkers} workers`);
    const sink0 = sinkTally();
    const ticks0 = treeStats(pid).ticks;
    const t0 = performance.now();
    const answer = await new RemoteQueueAdmin(socks).release();
    let peakRss = 0;
    await waitDelivered(queued, sink0.msgs, S.messages, () => {
      peakRss = Math.max(peakRss, treeStats(pid).rssKb);
    });
    const seconds = (performance.now() - t0) / 1000;
    const ticks = treeStats(pid).ticks - ticks0;
    const left = queued();
    const sink1 = sinkTally();
    log(`pochta: release: ${answer} messages; the sink got ${sink1.msgs - sink0.msgs} transactions, ${sink1.rcpts - sink0.rcpts} recipients; ${left} left in the queue`);
    const delivered = S.messages - left;
    return {
      server: 'Pochta', msgsPerS: delivered / seconds, cpuMsPerMsg: (ticks * 1000) / TICK / Math.max(1, delivered),
      rssMb: peakRss / 1024, delivered, seconds,
    };
  } finally {
    await killGroup(pid);
  }
}

function cleanup(): void {
  if (postfixEtc) spawnSync('/usr/sbin/postfix', ['-c', postfixEtc, 'abort']);
  for (const c of children) {
    try {
      if (c.pid) process.kill(-c.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  }
}

async function main(): Promise<void> {
  const sinkPort = await freePort();
  startSink(sinkPort);
  await waitPort(sinkPort);
  const results: Result[] = [];
  for (let round = 1; round <= S.rounds; round++) {
    log(`round ${round}: pochta`);
    results.push(await runPochta(sinkPort));
    log(`round ${round}: postfix`);
    results.push(await runPostfix(sinkPort));
  }
  const best = (name: string) => results.filter((r) => r.server.startsWith(name)).sort((a, b) => b.msgsPerS - a.msgsPerS)[0];
  const rows = [best('Pochta'), best('Postfix')].map((r) =>
    `| ${r.server} | ${r.msgsPerS.toFixed(0)} | ${r.cpuMsPerMsg.toFixed(2)} | ${r.rssMb.toFixed(0)} | ${r.delivered} in ${r.seconds.toFixed(2)} s |`);
  const all = results.map((r) => `${r.server}: ${r.msgsPerS.toFixed(0)} msg/s, ${r.cpuMsPerMsg.toFixed(2)} ms CPU/msg`).join('; ');
  const cpu = os.cpus()[0]?.model ?? '?';
  const section = `
## Outbound

${new Date().toISOString().slice(0, 10)}, \`bash bench/outbound/run.sh\` — ${S.messages} messages of ${S.size} bytes, ${S.rcpts} recipients each (smtp-source), relayed over plaintext SMTP on 127.0.0.1 to Postfix's \`smtp-sink\` (the ceiling: it accepts and discards); connection concurrency ${S.concurrency} for both; best of ${S.rounds} rounds. ${os.cpus().length} × ${cpu}, Node ${process.version}; load average at the end ${os.loadavg()[0].toFixed(1)}.

| sender | messages/s | CPU ms / message | peak RSS MB | delivered |
|---|---|---|---|---|
${rows.join('\n')}

- Pochta: a whole server (\`pochta start\`, workers: ${S.pochtaWorkers}, spool fsync on, \`queue.concurrency = ${S.pochtaQueue}\`, log level info, plugins relay-acl + outbound with smarthost = the sink, \`concurrency.perDestination = ${S.concurrency}\`, connection reuse on); messages injected with smtp-source over SMTP while \`pochta queue hold\` held remote delivery, then released over the control socket (what \`pochta queue release\` sends); only that delivery phase is timed (until the queue has no envelope left and the sink counted every message); CPU and peak RSS of the server process.
- Postfix: private instance (relayhost = the sink, \`default_destination_concurrency_limit = ${S.concurrency}\`, connection cache on); messages injected with smtp-source while \`defer_transports = smtp\` held them, then released with \`postfix reload\` + \`postqueue -f\`; only that delivery phase is timed; CPU of every process under master (qmgr, smtp, cleanup of bounces…), RSS summed over them.
- Every round: ${all}.
`;
  process.stdout.write(section);
  // Trial runs: BENCH_RESULTS=/tmp/x.md keeps them out of bench/RESULTS.md.
  const file = process.env.BENCH_RESULTS ?? path.join(REPO, 'bench/RESULTS.md');
  fs.appendFileSync(file, section);
  log(`appended to ${file}`);
}

process.on('SIGTERM', () => {
  cleanup();
  process.exit(143);
});
main().then(() => cleanup(), (err: unknown) => {
  log(`failed: ${(err as Error).stack ?? String(err)}`);
  cleanup();
  process.exitCode = 1;
});
