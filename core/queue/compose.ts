import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { HeaderEdit } from '../smtp/types.ts';
import { bodyStream, type MessageBody } from './body.ts';

/** The header lines to put before the spooled bytes: every `add` edit, in order, CRLF-terminated. */
export function headerPrefix(edits: readonly HeaderEdit[]): Buffer {
  const lines = edits.filter((e) => e.op === 'add').map((e) => `${e.name}: ${(e as { value: string }).value}\r\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

export function removedHeaders(edits: readonly HeaderEdit[]): string[] {
  return edits.filter((e) => e.op === 'remove').map((e) => e.name.toLowerCase());
}

/**
 * Drops the named fields (with their continuation lines) from the top-level header section,
 * streaming; the body passes through untouched.
 */
export class HeaderFilter extends Transform {
  #inHeader = true;
  #carry = '';
  #dropping = false;
  readonly #names: Set<string>;

  constructor(names: readonly string[]) {
    super();
    this.#names = new Set(names.map((n) => n.toLowerCase()));
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#inHeader) return cb(null, chunk);
    const text = this.#carry + chunk.toString('latin1');
    let out = '';
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      const line = text.slice(pos, nl + 1);
      pos = nl + 1;
      if (line === '\r\n' || line === '\n') {
        this.#inHeader = false;
        out += line + text.slice(pos);
        pos = text.length;
        break;
      }
      if (line[0] === ' ' || line[0] === '\t') {
        if (!this.#dropping) out += line;
        continue;
      }
      const colon = line.indexOf(':');
      this.#dropping = colon > 0 && this.#names.has(line.slice(0, colon).trim().toLowerCase());
      if (!this.#dropping) out += line;
    }
    this.#carry = this.#inHeader ? text.slice(pos) : '';
    cb(null, Buffer.from(out, 'latin1'));
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.#carry ? Buffer.from(this.#carry, 'latin1') : undefined);
  }
}

/** The message as delivered: added headers, then the spooled bytes minus removed headers. */
export function composeMessage(prefix: Buffer, message: MessageBody, remove: readonly string[] = []): Readable {
  const body = bodyStream(message);
  let source: Readable = body;
  if (remove.length) {
    const filter = new HeaderFilter(remove);
    // pipe() does not forward errors: a read error must fail the delivery, not truncate it.
    body.once('error', (err) => filter.destroy(err));
    source = body.pipe(filter);
  }
  async function* gen() {
    if (prefix.length) yield prefix;
    for await (const chunk of source) yield chunk as Buffer;
  }
  return Readable.from(gen(), { objectMode: false });
}
