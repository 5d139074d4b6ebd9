/**
 * The file-system calls the Maildir store makes, injectable so tests can count them (a folder must open
 * from its index without reading every message) or fail one at a chosen step.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { readPrefixSync } from '../../core/fs/read-prefix.ts';

export type FsPort = Pick<
  typeof fsp,
  'open' | 'readdir' | 'stat' | 'rename' | 'link' | 'unlink' | 'mkdir' | 'rm' | 'readFile' | 'utimes'
> & {
  /** Up to `length` bytes of `file` from `position`, in one buffer (shorter at end of file). */
  readRange(file: string, position: number, length: number): Promise<Buffer>;
  /**
   * Synchronous open + read of up to `length` bytes from the start into `buf` + close; returns the
   * bytes read. For callers that read many small heads in bounded slices (prefix-reader.ts).
   */
  readPrefixSync(file: string, buf: Buffer, length: number): number;
  /** Synchronous rename, for many renames in bounded slices (SELECT's new/ → cur/ moves, folder-state.ts). */
  renameSync(from: string, to: string): void;
  /**
   * O_EXCL create of `file` with all of `bytes` written; resolves to the open descriptor. For small
   * in-memory messages, with fs callbacks: a FileHandle costs ~75 µs of main-thread CPU per call, a
   * callback ~30 (core/queue/small-io.ts). Synchronous calls were measured worse here: a create in a
   * busy Maildir tmp/ costs the kernel 0.3–0.5 ms (inode allocation, journal), which then stalls the
   * event loop instead of running on the other core.
   */
  createFile(file: string, bytes: Uint8Array, mode: number): Promise<number>;
  /** fsync of a descriptor on the thread pool; `file` names it (tests, errors). */
  fsyncFd(file: string, fd: number): Promise<void>;
  closeFd(file: string, fd: number): Promise<void>;
};

/**
 * open + read + close with the callback API: for a message of a few KB a FileHandle (and a stream on
 * it) costs several times the CPU of the read itself, and IMAP FETCH / SEARCH read whole folders.
 * Bounded: each read either advances or ends the loop at end of file.
 */
function readRange(file: string, position: number, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'r', (openErr, fd) => {
      if (openErr) return reject(openErr);
      const buf = Buffer.allocUnsafe(length);
      let got = 0;
      const finish = (err: Error | null): void =>
        fs.close(fd, (closeErr) => {
          const e = err ?? closeErr;
          if (e) reject(e);
          else resolve(got < length ? buf.subarray(0, got) : buf);
        });
      const step = (): void =>
        fs.read(fd, buf, got, length - got, position + got, (readErr, n) => {
          if (readErr) return finish(readErr);
          got += n;
          if (n === 0 || got >= length) finish(null);
          else step();
        });
      if (length <= 0) finish(null);
      else step();
    });
  });
}

function createFile(file: string, bytes: Uint8Array, mode: number): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.open(file, 'wx', mode, (openErr, fd) => {
      if (openErr) return reject(openErr);
      // Created by this call: a failed write leaves no partial file in tmp/.
      const fail = (err: Error): void => fs.close(fd, () => fs.unlink(file, () => reject(err)));
      // Bounded: each write advances or the loop ends (a regular file takes a small write whole, or fails).
      const step = (off: number): void => {
        if (off >= bytes.byteLength) return resolve(fd);
        fs.write(fd, bytes, off, bytes.byteLength - off, null, (err, n) => {
          if (err) return fail(err);
          if (n <= 0) return fail(Object.assign(new Error(`short write to ${file}`), { code: 'EIO' }));
          step(off + n);
        });
      };
      step(0);
    });
  });
}

const fsyncFd = (_file: string, fd: number): Promise<void> =>
  new Promise((resolve, reject) => fs.fsync(fd, (err) => (err ? reject(err) : resolve())));
const closeFd = (_file: string, fd: number): Promise<void> =>
  new Promise((resolve, reject) => fs.close(fd, (err) => (err ? reject(err) : resolve())));

export const nodeFs: FsPort = {
  createFile, fsyncFd, closeFd,
  open: fsp.open, readdir: fsp.readdir, stat: fsp.stat, rename: fsp.rename, link: fsp.link, unlink: fsp.unlink,
  mkdir: fsp.mkdir, rm: fsp.rm, readFile: fsp.readFile, utimes: fsp.utimes, readRange, readPrefixSync, renameSync: fs.renameSync,
};

/** fsync a directory so a rename or create inside it survives a crash (the file's own fsync does not cover it). */
export async function syncDir(fs: FsPort, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
