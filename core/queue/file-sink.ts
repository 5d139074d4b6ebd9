import { Writable } from 'node:stream';
import type { FileHandle } from 'node:fs/promises';

/**
 * A Writable over an open FileHandle that leaves the handle open (the spool still has to fsync
 * and close it). fs.WriteStream with autoClose:false never reports 'close', which stalls
 * stream.pipeline; this one finishes normally.
 */
export function fileSink(fh: FileHandle, start: number): Writable & { readonly position: number } {
  let pos = start;
  const w = new Writable({
    highWaterMark: 256 * 1024,
    writev(chunks, cb) {
      const bufs = chunks.map((c) => c.chunk as Buffer);
      fh.writev(bufs, pos).then((r) => {
        pos += r.bytesWritten;
        cb();
      }, cb);
    },
  });
  return Object.defineProperty(w, 'position', { get: () => pos }) as Writable & { readonly position: number };
}
