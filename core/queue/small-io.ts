import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * File operations on the delivery path (per message: read the envelope, read the body, remove
 * both), on node:fs's callback API: a FileHandle from node:fs/promises costs about twice the CPU
 * for an open-read-close of a small file (measured: ~75 µs against ~32 µs per file on Node 20).
 */
const openFd = promisify(fs.open);
const readFd = promisify(fs.read);
const closeFd = promisify(fs.close);
const unlinkFile = promisify(fs.unlink);

/**
 * Up to `max` bytes from the start of a file, with one read call (no fstat). `whole` is false
 * when the file may be longer (the buffer filled up): the caller reads it another way.
 */
export async function readHead(file: string, max: number): Promise<{ bytes: Buffer; whole: boolean }> {
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

/** unlink, quiet when already gone (cheaper than rm({ force }), which lstat()s first). */
export async function unlinkIfExists(p: string): Promise<void> {
  try {
    await unlinkFile(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
