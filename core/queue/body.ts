import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

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
