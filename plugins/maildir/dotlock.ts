/**
 * A lock file shared with other processes on the same Maildir (another Pochta node on shared storage,
 * a second store instance): created with O_EXCL, removed on release. A holder that died leaves it
 * behind: on this host a holder whose pid no longer runs is broken at once, any other after `staleMs`.
 * Critical sections are short (index I/O only, never message bodies), so a lock older than that is
 * abandoned, not busy.
 *
 * The lock appears with its owner already written in it: the owner line goes into a private file first,
 * which is then hard-linked to the lock name (link(2) fails with EEXIST like O_EXCL). An O_EXCL create
 * followed by a write left an empty lock whenever the holder was killed in between (that write waits
 * behind other fsyncs on the thread pool, so the window is milliseconds under load), and an empty lock
 * names no pid to check, so the restarted server waited `staleMs` for it.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailStoreError } from '../../core/store/errors.ts';
import { type FsPort, isErrno } from './fs-port.ts';

export interface DotlockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
}

/** How old a busy lock must be before its holder is checked for being dead (kill -9). */
const DEAD_CHECK_AFTER_MS = 250;

export const DEFAULT_DOTLOCK: DotlockOptions = { staleMs: 30_000, timeoutMs: 15_000 };

export async function withDotlock<T>(
  fs: FsPort,
  lockPath: string,
  options: DotlockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  await acquire(fs, lockPath, options);
  // A long step (a STORE over 100,000 messages) keeps the lock fresh so nobody breaks it as stale.
  const keepAlive = setInterval(() => {
    const now = new Date();
    fs.utimes(lockPath, now, now).catch(() => undefined);
  }, options.staleMs / 3);
  keepAlive.unref();
  try {
    return await fn();
  } finally {
    clearInterval(keepAlive);
    await fs.unlink(lockPath).catch(() => undefined);
  }
}

async function acquire(fs: FsPort, lockPath: string, options: DotlockOptions): Promise<void> {
  const mine = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}`;
  try {
    const handle = await fs.open(mine, 'wx', 0o600);
    try {
      await handle.writeFile(`${process.pid} ${os.hostname()}\n`);
    } finally {
      await handle.close();
    }
  } catch (err) {
    // The lock lives in the folder directory: its absence means the folder is gone.
    if (isErrno(err, 'ENOENT')) throw new MailStoreError('NONEXISTENT', 'folder does not exist', { cause: err });
    throw err;
  }
  try {
    await linkWhenFree(fs, mine, lockPath, options);
  } finally {
    await fs.unlink(mine).catch(() => undefined);
  }
}

async function linkWhenFree(fs: FsPort, mine: string, lockPath: string, { staleMs, timeoutMs }: DotlockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  for (;;) {
    try {
      await fs.link(mine, lockPath);
      return;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new MailStoreError('NONEXISTENT', 'folder does not exist', { cause: err });
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    await breakIfStale(fs, lockPath, staleMs);
    if (Date.now() > deadline) throw new MailStoreError('INUSE', 'folder is locked by another process');
    await sleep(wait);
    wait = Math.min(wait * 2, 100);
  }
}

/** The holder wrote "pid hostname"; on this host a pid that no longer runs means the holder died (kill -9). */
async function holderIsDead(fs: FsPort, lockPath: string): Promise<boolean> {
  const text = await fs.readFile(lockPath, 'utf8').catch(() => '');
  const [pidText, host] = String(text).trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || host !== os.hostname() || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return isErrno(err, 'ESRCH');
  }
}

async function breakIfStale(fs: FsPort, lockPath: string, staleMs: number): Promise<void> {
  try {
    const first = await fs.stat(lockPath);
    const age = Date.now() - first.mtimeMs;
    // A live holder keeps a lock for milliseconds: ask whether it died (a read of the lock file
    // and a signal) only once the lock is older than that, not on every busy retry.
    if (age < staleMs && (age < DEAD_CHECK_AFTER_MS || !(await holderIsDead(fs, lockPath)))) return;
    // Check again just before removing, so a lock re-created by someone else meanwhile survives.
    const again = await fs.stat(lockPath);
    if (again.ino === first.ino && again.mtimeMs === first.mtimeMs) await fs.unlink(lockPath);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}
