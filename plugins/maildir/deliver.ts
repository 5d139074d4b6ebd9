/**
 * Writes one message into a Maildir folder the way the Maildir spec asks
 * (https://cr.yp.to/proto/maildir.html, "How a message is delivered"): create a uniquely named file in
 * tmp/, write it, fsync it, rename it into new/ (or cur/ when it already has flags), fsync that
 * directory. A reader never sees a partial file in new/ or cur/, and once this resolves the message
 * survives a crash (design.md, Message flow and durability). The body is streamed in fixed-size chunks,
 * never held whole in memory.
 */
import path from 'node:path';
import type { MessageSource } from '../../core/store/mail-store.ts';
import { curName } from './filename.ts';
import { type FsPort, syncDir } from './fs-port.ts';
import type { UniqueNamer } from './unique-name.ts';

export const CHUNK_SIZE = 64 * 1024;
/**
 * In-memory messages up to this size are written in one write through fs callbacks (no FileHandle, no
 * chunk reader); a larger one, or one from a file or a stream, in CHUNK_SIZE steps.
 */
export const SYNC_WRITE_MAX = 256 * 1024;

export interface DeliverTarget {
  /** The folder directory (the one holding cur/ new/ tmp/). */
  readonly dir: string;
  /** Info letters; empty puts the message in new/, otherwise cur/ with `:2,<info>`. */
  readonly info?: string;
  /** Becomes the file's mtime, which Maildir readers (Dovecot, mutt) take as the internal date. */
  readonly internalDate?: Date;
}

export interface Delivered {
  /** The base name (unique part plus `,S=<size>`), the message's identity in the folder index. */
  readonly base: string;
  /** The file name inside `subdir`. */
  readonly filename: string;
  readonly subdir: 'new' | 'cur';
  readonly size: number;
  readonly internalDate: Date;
}

export async function deliver(
  fs: FsPort,
  namer: UniqueNamer,
  source: MessageSource,
  target: DeliverTarget,
): Promise<Delivered> {
  const delivered = await writeMessage(fs, namer, source, target);
  await syncDir(fs, path.join(target.dir, delivered.subdir));
  return delivered;
}

/**
 * deliver() without the final fsync of new/ (or cur/): the caller syncs the directory, so that
 * concurrent deliveries into one folder can share that fsync (core/fs/dir-syncs.ts). Until then a crash may
 * lose the rename (the file then stays in tmp/). Steps that do not depend on each other overlap: the
 * tmp/ file is created while the source opens and reads its first chunk, and the source is closed
 * while the file is fsynced.
 */
export async function writeMessage(
  fs: FsPort,
  namer: UniqueNamer,
  source: MessageSource,
  target: DeliverTarget,
): Promise<Delivered> {
  const name = namer.next();
  const tmp = path.join(target.dir, 'tmp', name);
  const info = target.info ?? '';
  const subdir = info === '' ? 'new' : 'cur';
  const size = source instanceof Uint8Array && source.byteLength <= SYNC_WRITE_MAX ? await writeTmpWhole(fs, tmp, source) : await writeTmpStreamed(fs, tmp, source);
  const base = `${name},S=${size}`;
  const filename = subdir === 'new' ? base : curName(base, info);
  try {
    if (target.internalDate) await fs.utimes(tmp, target.internalDate, target.internalDate);
    await fs.rename(tmp, path.join(target.dir, subdir, filename));
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return { base, filename, subdir, size, internalDate: target.internalDate ?? new Date() };
}

/**
 * A small in-memory message into tmp/, fsynced and closed: one write through fs callbacks (no
 * FileHandle, no chunk reader). Its size; on failure the file is gone (createFile removes a file
 * it could not write).
 */
async function writeTmpWhole(fs: FsPort, tmp: string, bytes: Uint8Array): Promise<number> {
  const fd = await fs.createFile(tmp, bytes, 0o600);
  try {
    try {
      await fs.fsyncFd(tmp, fd);
    } finally {
      await fs.closeFd(tmp, fd);
    }
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return bytes.byteLength;
}

/**
 * Any message into tmp/ in CHUNK_SIZE steps, fsynced and closed; the tmp/ file is created while
 * the source opens and reads its first chunk, and the source is closed while the file is fsynced.
 * Its size; on failure the file is gone.
 */
async function writeTmpStreamed(fs: FsPort, tmp: string, source: MessageSource): Promise<number> {
  const reader = chunkReader(fs, source);
  const [opened, first] = await Promise.allSettled([fs.open(tmp, 'wx', 0o600), reader.next()]);
  if (opened.status === 'rejected') {
    await reader.close().catch(() => undefined);
    throw opened.reason;
  }
  const out = opened.value;
  let size = 0;
  try {
    try {
      if (first.status === 'rejected') throw first.reason;
      for (let chunk = first.value; chunk !== undefined; chunk = await reader.next()) {
        await writeAll(out, chunk);
        size += chunk.byteLength;
      }
      const [synced, closed] = await Promise.allSettled([out.sync(), reader.close()]);
      if (synced.status === 'rejected') throw synced.reason;
      if (closed.status === 'rejected') throw closed.reason;
    } finally {
      await Promise.all([out.close(), reader.close().catch(() => undefined)]);
    }
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  return size;
}

/** A source's bytes in order, one chunk per next() (undefined at the end); close() may be called any time, twice. */
interface ChunkReader {
  next(): Promise<Uint8Array | undefined>;
  close(): Promise<void>;
}

function chunkReader(fs: FsPort, source: MessageSource): ChunkReader {
  if (source instanceof Uint8Array) {
    let rest: Uint8Array | undefined = source;
    return {
      next: async () => {
        const chunk = rest;
        rest = undefined;
        return chunk;
      },
      close: async () => undefined,
    };
  }
  if ('stream' in source) {
    const it = source.stream[Symbol.asyncIterator]();
    let ended = false;
    return {
      next: async () => {
        if (ended) return undefined;
        const r = await it.next();
        if (r.done) ended = true;
        return r.done ? undefined : r.value;
      },
      close: async () => {
        if (ended) return;
        ended = true;
        await it.return?.();
      },
    };
  }
  return fileReader(fs, source.path, source.prefix);
}

/**
 * The file's bytes after `head`, through one reused CHUNK_SIZE buffer (the caller writes a chunk
 * before asking for the next); a short head goes out with the first chunk, one write instead of two.
 */
function fileReader(fs: FsPort, file: string, head: Uint8Array | undefined): ChunkReader {
  const merge = head !== undefined && head.byteLength <= CHUNK_SIZE / 2;
  let pendingHead = head !== undefined && head.byteLength > 0 && !merge ? head : undefined;
  let input: Awaited<ReturnType<FsPort['open']>> | undefined;
  let closed = false;
  let ended = false;
  let buffer: Buffer | undefined;
  const close = async (): Promise<void> => {
    closed = true;
    const handle = input;
    input = undefined;
    await handle?.close();
  };
  return {
    async next() {
      if (pendingHead) {
        const h = pendingHead;
        pendingHead = undefined;
        return h;
      }
      if (ended || closed) return undefined;
      let start = 0;
      if (!buffer) {
        input = await fs.open(file, 'r');
        if (closed) {
          await close(); // closed while opening
          return undefined;
        }
        buffer = Buffer.allocUnsafe(CHUNK_SIZE);
        if (merge && head) {
          buffer.set(head);
          start = head.byteLength;
        }
      }
      const { bytesRead } = await (input as NonNullable<typeof input>).read(buffer, start, CHUNK_SIZE - start, null);
      if (bytesRead === 0) ended = true;
      const length = start + bytesRead;
      return length > 0 ? buffer.subarray(0, length) : undefined;
    },
    close,
  };
}

async function writeAll(out: Awaited<ReturnType<FsPort['open']>>, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await out.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
