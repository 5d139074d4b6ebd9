import fs from 'node:fs';
import { promisify } from 'node:util';
import { readPrefixSync } from '../fs/read-prefix.ts';

/**
 * File operations on the delivery path (per message: read the envelope, read the body, remove
 * both). Small files are read with synchronous calls: they were just written, so they are in the
 * page cache, and each thread-pool round trip costs more main-thread CPU than the system call
 * itself (a FileHandle from node:fs/promises ~75 µs, fs callbacks ~32 µs, sync a few µs per file on
 * Node 20 here). Reads above SYNC_READ_MAX go through the thread pool so the event loop is never
 * held for a large file; removals always do (see unlinkIfExists).
 */
const SYNC_READ_MAX = 256 * 1024;
const openFd = promisify(fs.open);
const readFd = promisify(fs.read);
const closeFd = promisify(fs.close);

/**
 * Up to `max` bytes from the start of a file, with one read call (no fstat). `whole` is false
 * when the file may be longer (the buffer filled up): the caller reads it another way.
 */
export async function readHead(file: string, max: number): Promise<{ bytes: Buffer; whole: boolean }> {
  if (max <= SYNC_READ_MAX) return readHeadSync(file, max);
  const fd = await openFd(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(max);
    // A regular file returns less than asked only at its end (libuv retries EINTR).
    const { bytesRead } = await readFd(fd, buf, 0, max, 0);
    return { bytes: buf.subarray(0, bytesRead), whole: bytesRead < max };
  } finally {
    await closeFd(fd);
  }
}

const unlinkFd = promisify(fs.unlink);

/**
 * unlink, quiet when already gone (cheaper than rm({ force }), which lstat()s first). On the thread
 * pool, not synchronous: an unlink in a spool directory that is being fsynced waits for the
 * journal, and done synchronously that held the event loop for ~40 % of its busy time in the
 * outbound benchmark (which then ran at about half the rate).
 */
export async function unlinkIfExists(p: string): Promise<void> {
  try {
    await unlinkFd(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function readHeadSync(file: string, max: number): { bytes: Buffer; whole: boolean } {
  const buf = Buffer.allocUnsafe(max);
  const bytesRead = readPrefixSync(file, buf, max);
  return { bytes: buf.subarray(0, bytesRead), whole: bytesRead < max };
}
