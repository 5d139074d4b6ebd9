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
  const name = namer.next();
  const tmp = path.join(target.dir, 'tmp', name);
  const info = target.info ?? '';
  const subdir = info === '' ? 'new' : 'cur';
  let size = 0;
  let base: string;
  let filename: string;
  const out = await fs.open(tmp, 'wx', 0o600);
  try {
    try {
      for await (const chunk of sourceChunks(fs, source)) {
        await writeAll(out, chunk);
        size += chunk.byteLength;
      }
      await out.sync();
    } finally {
      await out.close();
    }
    if (target.internalDate) await fs.utimes(tmp, target.internalDate, target.internalDate);
    base = `${name},S=${size}`;
    filename = subdir === 'new' ? base : curName(base, info);
    await fs.rename(tmp, path.join(target.dir, subdir, filename));
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(fs, path.join(target.dir, subdir));
  return { base, filename, subdir, size, internalDate: target.internalDate ?? new Date() };
}

/** The source's bytes in order; file contents come through one reused CHUNK_SIZE buffer. */
export async function* sourceChunks(fs: FsPort, source: MessageSource): AsyncGenerator<Uint8Array> {
  if (source instanceof Uint8Array) {
    yield source;
  } else if ('stream' in source) {
    yield* source.stream;
  } else {
    if (source.prefix && source.prefix.byteLength > 0) yield source.prefix;
    yield* fileChunks(fs, source.path);
  }
}

async function* fileChunks(fs: FsPort, file: string): AsyncGenerator<Uint8Array> {
  const input = await fs.open(file, 'r');
  try {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE);
    for (;;) {
      const { bytesRead } = await input.read(buffer, 0, CHUNK_SIZE, null);
      if (bytesRead === 0) return;
      // The consumer writes this chunk before asking for the next, so reusing the buffer is safe.
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await input.close();
  }
}

async function writeAll(out: Awaited<ReturnType<FsPort['open']>>, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await out.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
