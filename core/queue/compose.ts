import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { HeaderEdit } from '../smtp/types.ts';
import { headerEnd } from '../mime/header-end.ts';
import { bodyStream, type MessageBody } from './body.ts';

/** The header lines to put before the spooled bytes: every `add` edit, in order, CRLF-terminated. */
export function headerPrefix(edits: readonly HeaderEdit[]): Buffer {
  const lines = edits.filter((e) => e.op === 'add').map((e) => `${e.name}: ${(e as { value: string }).value}\r\n`);
  return Buffer.from(lines.join(''), 'utf8');
}

/**
 * A field to drop: every top-level field of that name, or only the fields of that name whose
 * value starts with `firstToken` (compared case-insensitively; see HeaderEdit).
 */
export type HeaderRemoval = string | { readonly name: string; readonly firstToken: string };

export function removedHeaders(edits: readonly HeaderEdit[]): HeaderRemoval[] {
  return edits.flatMap((e): HeaderRemoval[] => {
    if (e.op !== 'remove') return [];
    return e.firstToken !== undefined ? [{ name: e.name.toLowerCase(), firstToken: e.firstToken }] : [e.name.toLowerCase()];
  });
}

/**
 * The first token of a field value, lower-cased: leading CFWS (white space, folding, nested
 * comments, RFC 5322 §3.2.2) skipped, then a quoted-string or the run up to white space, `;` or
 * `(`. For Authentication-Results this is the authserv-id (RFC 8601 §2.2).
 */
export function firstToken(value: string): string {
  let i = 0;
  let depth = 0;
  while (i < value.length) {
    const c = value[i];
    if (depth > 0) {
      if (c === '\\') i++;
      else if (c === '(') depth++;
      else if (c === ')') depth--;
    } else if (c === '(') depth = 1;
    else if (!/[ \t\r\n]/.test(c)) break;
    i++;
  }
  if (value[i] === '"') {
    let out = '';
    for (i++; i < value.length && value[i] !== '"'; i++) out += value[i] === '\\' ? (value[++i] ?? '') : value[i];
    return out.toLowerCase();
  }
  const m = /^[^ \t\r\n;(]*/.exec(value.slice(i));
  return (m?.[0] ?? '').toLowerCase();
}

/** A field held back until it is complete is decided early beyond this size (the token is long seen). */
const MAX_HELD_FIELD = 64 * 1024;

/**
 * Drops the named fields (with their continuation lines) from the top-level header section; the
 * body passes through untouched. A conditional removal holds a field of its name until the field is
 * complete (its value may start on a continuation line), then decides. Works on latin1 text chunks
 * in order (bytes kept 1:1): HeaderFilter streams through it, filterHeaders runs it over a buffer.
 */
class HeaderFilterState {
  #inHeader = true;
  #carry = '';
  #dropping = false;
  /** The field being held for a conditional decision. */
  #held: { name: string; text: string } | undefined;
  readonly #names: Set<string>;
  readonly #tokens = new Map<string, Set<string>>();

  constructor(remove: readonly HeaderRemoval[]) {
    this.#names = new Set();
    for (const r of remove) {
      if (typeof r === 'string') this.#names.add(r.toLowerCase());
      else {
        const name = r.name.toLowerCase();
        const set = this.#tokens.get(name) ?? new Set<string>();
        set.add(r.firstToken.toLowerCase());
        this.#tokens.set(name, set);
      }
    }
  }

  get inHeader(): boolean {
    return this.#inHeader;
  }

  /** Decide the held field: what of it passes (all or nothing). */
  #decide(): string {
    const held = this.#held;
    if (!held) return '';
    this.#held = undefined;
    const colon = held.text.indexOf(':');
    this.#dropping = this.#tokens.get(held.name)?.has(firstToken(held.text.slice(colon + 1))) ?? false;
    return this.#dropping ? '' : held.text;
  }

  /** One complete header line (or the unterminated last one); returns what passes. */
  #line(line: string): string {
    if (line[0] === ' ' || line[0] === '\t') {
      if (this.#held) {
        this.#held.text += line;
        return this.#held.text.length > MAX_HELD_FIELD ? this.#decide() : '';
      }
      return this.#dropping ? '' : line;
    }
    const out = this.#decide();
    const colon = line.indexOf(':');
    const name = colon > 0 ? line.slice(0, colon).trim().toLowerCase() : '';
    this.#dropping = name !== '' && this.#names.has(name);
    if (!this.#dropping && name !== '' && this.#tokens.has(name)) {
      this.#held = { name, text: line };
      return out;
    }
    return this.#dropping ? out : out + line;
  }

  /** The next chunk of the header section (latin1); returns what passes of it so far. */
  take(chunk: string): string {
    const text = this.#carry + chunk;
    let out = '';
    let pos = 0;
    for (;;) {
      const nl = text.indexOf('\n', pos);
      if (nl < 0) break;
      const line = text.slice(pos, nl + 1);
      pos = nl + 1;
      if (line === '\r\n' || line === '\n') {
        this.#inHeader = false;
        out += this.#decide() + line + text.slice(pos);
        pos = text.length;
        break;
      }
      out += this.#line(line);
    }
    this.#carry = this.#inHeader ? text.slice(pos) : '';
    return out;
  }

  /** The end of the message: a message that ends inside its header section has an unterminated last line. */
  end(): string {
    const out = this.#inHeader ? (this.#carry ? this.#line(this.#carry) : '') + this.#decide() : '';
    this.#carry = '';
    return out;
  }
}

/** HeaderFilterState as a stream transform. */
export class HeaderFilter extends Transform {
  readonly #state: HeaderFilterState;

  constructor(remove: readonly HeaderRemoval[]) {
    super();
    this.#state = new HeaderFilterState(remove);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (!this.#state.inHeader) return cb(null, chunk);
    cb(null, Buffer.from(this.#state.take(chunk.toString('latin1')), 'latin1'));
  }

  override _flush(cb: TransformCallback): void {
    const out = this.#state.end();
    cb(null, out ? Buffer.from(out, 'latin1') : undefined);
  }
}

/**
 * HeaderFilter over a message in memory: only the header section is converted to text and back; the
 * body is copied as it is.
 */
function filterHeaders(bytes: Buffer, remove: readonly HeaderRemoval[]): Buffer {
  if (!remove.length) return bytes;
  const state = new HeaderFilterState(remove);
  const found = headerEnd(bytes);
  const end = found < 0 ? bytes.length : found;
  const head = state.take(bytes.toString('latin1', 0, end));
  if (state.inHeader) return Buffer.from(head + state.end(), 'latin1');
  // take() returned the blank line and everything after it that it was given: nothing, past `end`.
  return Buffer.concat([Buffer.from(head, 'latin1'), bytes.subarray(end)]);
}

/**
 * The message as delivered, in memory: the added headers, then the stored bytes minus the removed
 * headers, in one buffer (what composeMessage streams, without the stream machinery).
 */
export function composeBuffer(prefix: Buffer, bytes: Buffer, remove: readonly HeaderRemoval[] = []): Buffer {
  const kept = filterHeaders(bytes, remove);
  return prefix.length ? Buffer.concat([prefix, kept]) : kept;
}

/** The message as delivered: added headers, then the spooled bytes minus removed headers. */
export function composeMessage(prefix: Buffer, message: MessageBody, remove: readonly HeaderRemoval[] = []): Readable {
  return composeStream(prefix, bodyStream(message), remove);
}

/**
 * The same composition over any stream of the stored bytes, e.g. `tx.message.stream()` with
 * `tx.headerEdits`: what a signer (dkim-sign, arc) must cover to match what is delivered.
 */
export function composeEdited(edits: readonly HeaderEdit[], stored: Readable): Readable {
  return composeStream(headerPrefix(edits), stored, removedHeaders(edits));
}

function composeStream(prefix: Buffer, body: Readable, remove: readonly HeaderRemoval[]): Readable {
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
