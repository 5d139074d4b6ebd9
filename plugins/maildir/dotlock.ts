/**
 * A lock file shared with other processes on the same Maildir (another Pochta node on shared storage,
 * a second store instance, the other workers). A holder that died leaves it behind: on this host a
 * holder whose pid no longer runs is broken at once, any other after `staleMs`. Critical sections are
 * short (index I/O only, never message bodies), so a lock older than that is abandoned, not busy.
 *
 * Taking the lock is link(2) of an owner file (`<lock>.<host>.<pid>` kept by the process, or
 * `<lock>.<host>.<pid>.<random>` made for one use; holding the line "pid host") to the lock name; link
 * fails with EEXIST like O_EXCL, and works on NFS. So:
 * - the lock never exists without its owner in it (an O_EXCL create followed by a write left an empty,
 *   ownerless lock whenever the holder was killed in between: the write waits behind fsyncs on the
 *   thread pool, so under load that window is milliseconds, and the restarted server waited `staleMs`);
 * - taking and dropping the lock allocates and frees no inode when the owner file is kept between
 *   uses (`owners`): a create + unlink per lock made ext4's inode allocator skip thousands of recently
 *   freed inodes on every new message file (its recently_deleted() scan; measured ~10 % of the
 *   server's CPU in the SMTP benchmark).
 * Age is the inode's ctime: link and the keep-alive utimes both set it.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MailStoreError } from '../../core/store/errors.ts';
import { type FsPort, isErrno } from './fs-port.ts';

export interface DotlockOptions {
  readonly staleMs: number;
  readonly timeoutMs: number;
  /**
   * Owner files this process keeps between uses of its locks (removed by `removeAll` on close). Without
   * it the owner file is removed after each use.
   */
  readonly owners?: DotlockOwners | undefined;
}

/** How old a busy lock must be before its holder is checked for being dead (kill -9). */
const DEAD_CHECK_AFTER_MS = 250;
/** link() → ENOENT → owner file made → link() again: bounded, in case something keeps removing it. */
const MAX_OWNER_REMAKES = 3;

export const DEFAULT_DOTLOCK: DotlockOptions = { staleMs: 30_000, timeoutMs: 15_000 };

/** The owner files one store made; each folder's is made once and kept until the store closes. */
export class DotlockOwners {
  readonly #files = new Set<string>();

  has(file: string): boolean {
    return this.#files.has(file);
  }

  add(file: string): void {
    this.#files.add(file);
  }

  async removeAll(fs: FsPort): Promise<void> {
    const files = [...this.#files];
    this.#files.clear();
    await Promise.all(files.map((f) => fs.unlink(f).catch(() => undefined)));
  }
}

const hostTag = (host: string): string => host.replace(/[^A-Za-z0-9-]/g, '_');
const ownerFileOf = (lockPath: string, pid: number, host: string): string => `${lockPath}.${hostTag(host)}.${pid}`;

export async function withDotlock<T>(
  fs: FsPort,
  lockPath: string,
  options: DotlockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  // Kept owner files are one per process and lock; a per-use one is this call's own, so two calls
  // in one process never remove each other's.
  const owner = options.owners ? ownerFileOf(lockPath, process.pid, os.hostname()) : `${ownerFileOf(lockPath, process.pid, os.hostname())}.${randomBytes(4).toString('hex')}`;
  try {
    await acquire(fs, lockPath, owner, options);
  } catch (err) {
    if (!options.owners) await fs.unlink(owner).catch(() => undefined);
    throw err;
  }
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
    if (!options.owners) await fs.unlink(owner).catch(() => undefined);
  }
}

async function acquire(fs: FsPort, lockPath: string, owner: string, { staleMs, timeoutMs, owners }: DotlockOptions): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let wait = 2;
  let remakes = 0;
  if (!owners?.has(owner)) await makeOwnerFile(fs, lockPath, owner, owners);
  for (;;) {
    try {
      await fs.link(owner, lockPath);
      return;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) {
        // Our owner file is gone (or the folder is, which makeOwnerFile reports).
        if (++remakes > MAX_OWNER_REMAKES) throw err;
        await makeOwnerFile(fs, lockPath, owner, owners);
        continue;
      }
      if (!isErrno(err, 'EEXIST')) throw err;
    }
    await breakIfStale(fs, lockPath, staleMs);
    if (Date.now() > deadline) throw new MailStoreError('INUSE', 'folder is locked by another process');
    await sleep(wait);
    wait = Math.min(wait * 2, 100);
  }
}

async function makeOwnerFile(fs: FsPort, lockPath: string, owner: string, owners: DotlockOwners | undefined): Promise<void> {
  const line = `${process.pid} ${os.hostname()}\n`;
  const write = async (flags: 'wx' | 'w'): Promise<void> => {
    const handle = await fs.open(owner, flags, 0o600);
    try {
      await handle.writeFile(line);
    } finally {
      await handle.close();
    }
  };
  try {
    await write('wx');
  } catch (err) {
    // The lock lives in the folder directory: its absence means the folder is gone.
    if (isErrno(err, 'ENOENT')) throw new MailStoreError('NONEXISTENT', 'folder does not exist', { cause: err });
    if (!isErrno(err, 'EEXIST')) throw err;
    // Ours already (another store instance in this process may hold the lock through it right now:
    // never truncate it), unless a dead process with our pid left it unwritten.
    if (String(await fs.readFile(owner, 'utf8').catch(() => '')) !== line) await write('w');
  }
  if (!owners) return;
  owners.add(owner);
  // Once per lock and process: owner files that processes killed on this host left behind.
  await removeDeadOwners(fs, lockPath).catch(() => undefined);
}

async function removeDeadOwners(fs: FsPort, lockPath: string): Promise<void> {
  const prefix = `${path.basename(lockPath)}.${hostTag(os.hostname())}.`;
  const names = await fs.readdir(path.dirname(lockPath));
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]); // "<pid>", or "<pid>.<random>" (per use)
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !pidRuns(pid)) {
      await fs.unlink(path.join(path.dirname(lockPath), name)).catch(() => undefined);
    }
  }
}

function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return !isErrno(err, 'ESRCH');
  }
}

/** The holder wrote "pid hostname"; on this host a pid that no longer runs means the holder died (kill -9). */
async function deadHolder(fs: FsPort, lockPath: string): Promise<number | undefined> {
  const text = await fs.readFile(lockPath, 'utf8').catch(() => '');
  const [pidText, host] = String(text).trim().split(/\s+/);
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0 || host !== os.hostname() || pid === process.pid) return undefined;
  return pidRuns(pid) ? undefined : pid;
}

async function breakIfStale(fs: FsPort, lockPath: string, staleMs: number): Promise<void> {
  try {
    const first = await fs.stat(lockPath);
    const age = Date.now() - first.ctimeMs;
    // A live holder keeps a lock for milliseconds: ask whether it died (a read of the lock file
    // and a signal) only once the lock is older than that, not on every busy retry.
    const dead = age < staleMs && age >= DEAD_CHECK_AFTER_MS ? await deadHolder(fs, lockPath) : undefined;
    if (age < staleMs && dead === undefined) return;
    // Check again just before removing, so a lock re-created by someone else meanwhile survives.
    const again = await fs.stat(lockPath);
    if (again.ino !== first.ino || again.ctimeMs !== first.ctimeMs) return;
    await fs.unlink(lockPath);
    // Its owner file (kept or per use) and any other left by processes killed on this host.
    if (dead !== undefined) await removeDeadOwners(fs, lockPath).catch(() => undefined);
  } catch (err) {
    if (!isErrno(err, 'ENOENT')) throw err;
  }
}
