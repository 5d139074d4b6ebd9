import { chown, mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon } from './daemon.ts';

/**
 * The GTUBE test string (SpamAssassin's "Generic Test for Unsolicited Bulk Email"), assembled at
 * run time so no file in the repository is itself spam to a scanner. rspamd also knows variants
 * that differ in the first letter and force an action (with `gtube_patterns = "all"`):
 * X reject, Y add header, Z rewrite subject, A no action.
 */
export function gtube(variant: 'X' | 'Y' | 'Z' | 'A' = 'X'): string {
  return [`${variant}JS*C4JDBQADN1.NSBN3*2IDNEN*`, 'GTUBE-STANDARD-ANTI-UBE', '-TEST-EMAIL*C.34X'].join('');
}

export interface DaemonUser {
  readonly user: string;
  readonly group: string;
  readonly uid: number;
  readonly gid: number;
}

/**
 * When the tests run as root, the daemons drop to `nobody` (rspamd refuses to run workers as
 * root; spamd wants a user for its children). Undefined when not root: they run as the caller.
 */
export async function unprivilegedUser(): Promise<DaemonUser | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const pw = (await readFile('/etc/passwd', 'utf8')).split('\n').map((l) => l.split(':'));
  const nobody = pw.find((f) => f[0] === 'nobody');
  if (!nobody) throw new Error('running as root, but there is no user "nobody" to run the daemon as');
  const uid = Number(nobody[2]);
  const gid = Number(nobody[3]);
  const groups = (await readFile('/etc/group', 'utf8')).split('\n').map((l) => l.split(':'));
  const group = groups.find((f) => Number(f[2]) === gid)?.[0] ?? String(gid);
  return { user: 'nobody', group, uid, gid };
}

/** Give a directory tree to the daemon's user (the daemon writes pid, db and logs there). */
export async function giveTree(dir: string, who: DaemonUser | undefined): Promise<void> {
  if (!who) return;
  await chown(dir, who.uid, who.gid);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await giveTree(p, who);
    else await chown(p, who.uid, who.gid);
  }
}

export interface TestRspamd {
  readonly host: '127.0.0.1';
  /** The normal (scanner) worker's HTTP port. */
  readonly port: number;
  /** The same worker on a unix socket. */
  readonly socket: string;
  /** Stop rspamd (SIGTERM, wait for exit) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Ways a test makes the private instance answer a given action:
 * - a Subject containing `softRejectSubject` → "soft reject" with the message "Try again later"
 *   (a multimap symbol and a force_actions rule);
 * - the Settings-ID `greylistSettings` → "greylist" for any message (settings.conf);
 * - any authenticated scan (a User header) → "reject" (a settings rule with `authenticated`),
 *   which proves the User header arrived.
 * GTUBE variants force reject / add header / rewrite subject (see gtube()).
 */
export const RSPAMD_TEST = {
  softRejectSubject: 'pochta-soft-reject',
  softRejectMessage: 'Try again later',
  greylistSettings: 'pochta-greylist',
} as const;

/**
 * A throw-away rspamd: Debian's stock rules (`/etc/rspamd/common.conf`) with a private options
 * block, one normal worker on a free loopback port and a unix socket, its db/run/log in a temp
 * directory, with its own local.d holding the RSPAMD_TEST rules. No Redis (Bayes, ratelimit...
 * disable themselves), no controller worker, DNS aimed
 * at a closed loopback port so network rules fail fast instead of leaving the machine, a tiny
 * TLD list (compiling the full public-suffix list takes minutes on a busy machine), and all GTUBE
 * variants enabled (`enable_test_patterns`) so tests can force each action.
 */
export async function startRspamd(): Promise<TestRspamd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-rspamd-'));
  for (const d of ['db', 'run', 'log', 'local']) await mkdir(path.join(dir, d));
  const tld = path.join(dir, 'tld.dat');
  await writeFile(tld, ['com', 'net', 'org', 'test', 'example', 'invalid', 'localhost'].join('\n') + '\n');
  const local = path.join(dir, 'local', 'local.d');
  await mkdir(local);
  const softRe = path.join(dir, 'local', 'soft-reject.re');
  await writeFile(softRe, `/${RSPAMD_TEST.softRejectSubject}/\n`);
  await writeFile(path.join(local, 'multimap.conf'),
    `POCHTA_TEST_SOFT { type = "header"; header = "Subject"; regexp = true; map = "${softRe}"; score = 0.0; }\n`);
  await writeFile(path.join(local, 'force_actions.conf'),
    `rules { POCHTA_TEST_SOFT_REJECT { action = "soft reject"; expression = "POCHTA_TEST_SOFT"; message = "${RSPAMD_TEST.softRejectMessage}"; } }\n`);
  await writeFile(path.join(local, 'settings.conf'), [
    `pochta-greylist { id = "${RSPAMD_TEST.greylistSettings}"; apply { actions { greylist = -100; "add header" = 1000; "rewrite subject" = 1000; reject = 1000; } } }`,
    'pochta-authenticated { priority = high; authenticated = true; apply { actions { reject = -100; } } }',
  ].join('\n') + '\n');
  const socket = path.join(dir, 'run', 'normal.sock');
  const who = await unprivilegedUser();
  const logFile = path.join(dir, 'log', 'rspamd.log');
  const readLog = () => readFile(logFile, 'utf8').catch(() => '');
  const confPath = path.join(dir, 'rspamd.conf');
  const daemon = await startDaemon({
    name: 'rspamd',
    command: 'rspamd',
    dir,
    async args(port) {
      const conf = `
.include "$CONFDIR/common.conf"
options {
  pidfile = "$RUNDIR/rspamd.pid";
  filters = "chartable,dkim,regexp,fuzzy_check";
  cache_file = "$DBDIR/symbols.cache";
  dynamic_conf = "$DBDIR/rspamd_dynamic";
  history_file = "$DBDIR/rspamd.history";
  stats_file = "$DBDIR/stats.ucl";
  hs_cache_dir = "$DBDIR/";
  control_socket = "$DBDIR/rspamd.sock mode=0600";
  explicit_modules = ["settings", "bayes_expiry"];
  allow_raw_input = true;
  dns { nameserver = ["127.0.0.1:1"]; timeout = 0.2s; retransmits = 1; }
  tempdir = "$DBDIR";
  url_tld = "${tld}";
  task_timeout = 8s;
  enable_test_patterns = true;
}
logging { type = "file"; filename = "$LOGDIR/rspamd.log"; level = "info"; }
worker "normal" {
  bind_socket = "127.0.0.1:${port}";
  bind_socket = "${socket} mode=0666";
  mime = true;
  count = 1;
}
`;
      await writeFile(confPath, conf);
      await giveTree(dir, who);
      const vars = { DBDIR: 'db', RUNDIR: 'run', LOGDIR: 'log', LOCAL_CONFDIR: 'local' };
      const args = ['-f', '-c', confPath, ...Object.entries(vars).map(([k, v]) => `--var=${k}=${path.join(dir, v)}`)];
      if (who) args.push('-u', who.user, '-g', who.group);
      return args;
    },
    // Loading the stock rules takes ~10 s on a busy 2-core machine; bounded at 90 s.
    ping: { send: 'GET /ping HTTP/1.0\r\n\r\n', expect: 'pong', timeoutMs: 1000 },
    readyMs: 90_000,
    portTaken: async (out) => /cannot bind|Address already in use/i.test(out + (await readLog())),
    failureDetail: async () => (await readLog()).split('\n').slice(-20).join('\n'),
    stopGraceMs: 10_000,
    killOnExit: false,
  });
  return { host: '127.0.0.1', port: daemon.port, socket, stop: () => daemon.stop() };
}
