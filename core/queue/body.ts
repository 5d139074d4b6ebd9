import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { readHead } from './small-io.ts';

/**
 * Where a received message's bytes are: small ones stay in memory (written to disk only if they
 * must be spooled), large ones are streamed to the spool file as they arrive.
 */
export type MessageBody =
  | { readonly kind: 'memory'; readonly bytes: Buffer }
  | { readonly kind: 'file'; readonly path: string };

export function bodyStream(body: MessageBody): Readable {
  return body.kind === 'file' ? createReadStream(body.path) : Readable.from([body.bytes], { objectMode: false });
}

/**
 * A file whose size is known, read whole in one read call (open, read, close: no fstat, no
 * extra read for the end). Undefined when it turns out to be of another size.
 */
export async function readKnownSize(file: string, size: number): Promise<Buffer | undefined> {
  // One byte more than expected: a longer file shows itself without a second read.
  const { bytes } = await readHead(file, size + 1);
  return bytes.length === size ? bytes : undefined;
}
