import { copyFile, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon } from './daemon.ts';
import { giveTree, unprivilegedUser } from './rspamd.ts';

export interface TestSpamd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The unix socket spamd also listens on. */
  readonly socket: string;
  /** Stop spamd (SIGTERM, wait for exit) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/** Where Debian keeps the `.pre` files that load SpamAssassin's plugins (Check among them). */
const SITE_CONFIG = '/etc/spamassassin';

/**
 * A throw-away spamd with the packaged rules (/usr/share/spamassassin) and a private site config:
 * the stock `.pre` files (without them no plugin implements the checks and spamd exits), and a
 * local.cf that switches Bayes and auto-learning off. `-L` keeps every test local (no DNS or
 * network lookups), `-x` reads no per-user config. One child is enough for tests. Ready when it
 * answers PING (it binds its port seconds before it can scan).
 */
export async function startSpamd(): Promise<TestSpamd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-spamd-'));
  for (const f of await readdir(SITE_CONFIG)) {
    if (f.endsWith('.pre')) await copyFile(path.join(SITE_CONFIG, f), path.join(dir, f));
  }
  await writeFile(path.join(dir, 'local.cf'), 'use_bayes 0\nbayes_auto_learn 0\nskip_rbl_checks 1\n');
  const who = await unprivilegedUser();
  await giveTree(dir, who);
  const socket = path.join(dir, 'spamd.sock');
  const daemon = await startDaemon({
    name: 'spamd',
    command: 'spamd',
    dir,
    args: (port) => [
      '-L', '-x', `--listen=127.0.0.1:${port}`, `--listen=${socket}`, `--pidfile=${path.join(dir, 'spamd.pid')}`,
      `--siteconfigpath=${dir}`, `--helper-home-dir=${dir}`, '--max-children=1', '--syslog=stderr',
      ...(who ? ['-u', who.user] : []),
    ],
    // Compiling the rules takes ~10 s on a busy 2-core machine; bounded at 90 s.
    ping: { send: 'PING SPAMC/1.5\r\n\r\n', expect: 'PONG', timeoutMs: 1000 },
    readyMs: 90_000,
    portTaken: (out) => /Address already in use|could not create/i.test(out),
    stopGraceMs: 10_000,
    killOnExit: false,
  });
  return { host: '127.0.0.1', port: daemon.port, socket, stop: () => daemon.stop() };
}
