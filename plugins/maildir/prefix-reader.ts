/**
 * The first bytes of many message files (IMAP FETCH ENVELOPE / BODY[HEADER] of a whole folder).
 *
 * Each file is opened, read and closed synchronously, in slices of at most SLICE_FILES files or
 * SLICE_MS milliseconds; between slices the event loop runs (setImmediate), so other sessions are
 * never held up for longer than one slice. Measured against the libuv thread pool
 * (bench/imap/prefix-read.ts): an async open/read/close is three pool round trips and costs
 * several times the CPU of the three system calls on a file in the page cache.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { type FsPort, isErrno } from './fs-port.ts';

/** Files per slice, and the time a slice may take, before the event loop gets its turn. */
const SLICE_FILES = 64;
const SLICE_MS = 4;

/** Where a message's file is, and how to look again after another tool renamed it (FolderState). */
export interface PrefixSource {
  pathOf(uid: number): string | undefined;
  refresh(options: { readonly force: boolean }): Promise<void>;
}

/**
 * Calls `each(uid, bytes)` once per UID (in `uids` order, except those read again after a rescan) with up to `length` bytes from the start of each file;
 * `bytes` is undefined for a message that cannot be read (expunged, I/O error: the caller's own
 * read reports it). `bytes` is a view of one reused buffer: valid only during the call.
 */
export async function readPrefixes(
  fs: FsPort,
  src: PrefixSource,
  uids: readonly number[],
  length: number,
  each: (uid: number, bytes: Buffer | undefined) => void,
): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.max(0, length));
  let rescanned = false;
  let i = 0;
  while (i < uids.length) {
    const started = performance.now();
    const missing: number[] = [];
    for (let n = 0; i < uids.length && n < SLICE_FILES; n++, i++) {
      const uid = uids[i] ?? 0;
      const got = readOne(fs, src, uid, buf, length);
      if (got === 'renamed') missing.push(uid);
      else each(uid, got);
      if (performance.now() - started > SLICE_MS) {
        i++;
        break;
      }
    }
    if (missing.length > 0) {
      // Renamed by another tool (new/ → cur/, flags): look again once per call, then retry.
      if (!rescanned) {
        rescanned = true;
        await src.refresh({ force: true }).catch(() => undefined);
      }
      for (const uid of missing) {
        const got = readOne(fs, src, uid, buf, length);
        each(uid, got === 'renamed' ? undefined : got);
      }
    }
    if (i < uids.length) await yieldLoop();
  }
}

function readOne(fs: FsPort, src: PrefixSource, uid: number, buf: Buffer, length: number): Buffer | undefined | 'renamed' {
  const file = src.pathOf(uid);
  if (file === undefined) return undefined;
  try {
    return buf.subarray(0, fs.readPrefixSync(file, buf, length));
  } catch (err) {
    return isErrno(err, 'ENOENT') ? 'renamed' : undefined;
  }
}
