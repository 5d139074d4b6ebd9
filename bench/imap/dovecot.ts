// A private Dovecot 2.3 instance for the IMAP benchmark: own config, base_dir, passwd-file and a
// Maildir copy, listening on 127.0.0.1 at a port chosen by the caller. Needs root (Dovecot's
// master drops to its own users); mail processes run as the `dovecot` user, which owns the copy.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const DOVECOT = '/usr/sbin/dovecot';

export interface DovecotInstance {
  readonly port: number;
  readonly configPath: string;
  readonly baseDir: string;
  /** PID of the master (every Dovecot process of this instance descends from it). */
  readonly masterPid: number;
  stop(): void;
}

export function dovecotVersion(): string {
  return execFileSync(DOVECOT, ['--version'], { encoding: 'utf8' }).trim().split(' ')[0] ?? 'unknown';
}

/**
 * Starts Dovecot over `maildir` (a folder holding cur/ new/ tmp/, used as the user's INBOX) for one
 * user `user` / `password`. `dir` is a fresh work directory the instance may fill; it and its parent
 * must be traversable by the `dovecot` user (mode 0755).
 */
export async function startDovecot(opts: { dir: string; maildir: string; user: string; password: string; port: number; maxSessions?: number }): Promise<DovecotInstance> {
  const { dir, maildir, user, password, port } = opts;
  const max = opts.maxSessions ?? 1200;
  const baseDir = path.join(dir, 'run');
  for (const d of [baseDir, path.join(dir, 'state'), path.join(dir, 'home')]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(path.join(dir, 'passwd'), `${user}:{PLAIN}${password}::::::\n`, { mode: 0o640 });
  execFileSync('chown', ['-R', 'dovecot:dovecot', maildir, path.join(dir, 'home')]);
  execFileSync('chgrp', ['dovecot', path.join(dir, 'passwd')]);
  const conf = `# private benchmark instance (bench/imap)
protocols = imap
listen = 127.0.0.1
base_dir = ${baseDir}
state_dir = ${path.join(dir, 'state')}
log_path = ${path.join(dir, 'dovecot.log')}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
first_valid_uid = 1
mail_max_userip_connections = ${max + 100}
default_client_limit = ${max + 200}
default_process_limit = ${max + 200}
default_vsz_limit = 1G
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${path.join(dir, 'passwd')}
}
userdb {
  driver = static
  args = uid=dovecot gid=dovecot home=${path.join(dir, 'home')} mail=maildir:${maildir}
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  # "high-performance" login mode: a few login processes proxy every connection
  service_count = 0
  process_min_avail = 2
  client_limit = ${max + 100}
}
service imap {
  process_limit = ${max + 100}
}
service auth {
  client_limit = ${3 * max + 500}
}
service anvil {
  client_limit = ${3 * max + 500}
}
`;
  const configPath = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(configPath, conf);
  // The daemon keeps inherited descriptors open: no pipes, or spawnSync would wait for it.
  const errFile = path.join(dir, 'start.err');
  const errFd = fs.openSync(errFile, 'w');
  const r = spawnSync(DOVECOT, ['-c', configPath], { stdio: ['ignore', errFd, errFd] });
  fs.closeSync(errFd);
  if (r.status !== 0) throw new Error(`dovecot failed to start: ${fs.readFileSync(errFile, 'utf8')}`);
  const pidFile = path.join(baseDir, 'master.pid');
  let masterPid = 0;
  for (let i = 0; i < 100 && masterPid === 0; i++) {
    try {
      masterPid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    } catch {
      await new Promise((res) => setTimeout(res, 100));
    }
  }
  if (!masterPid) throw new Error('dovecot did not write master.pid');
  return {
    port,
    configPath,
    baseDir,
    masterPid,
    stop() {
      spawnSync(DOVECOT, ['-c', configPath, 'stop'], { stdio: 'ignore' });
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(masterPid, 0);
        } catch {
          return;
        }
        spawnSync('sleep', ['0.1']);
      }
      try {
        process.kill(masterPid, 'SIGKILL');
      } catch {
        // gone
      }
    },
  };
}
