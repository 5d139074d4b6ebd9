/**
 * A cursor over one framed command (lines and their literals) with the RFC 3501 §9 lexical rules:
 * atoms, quoted strings, literals, astring/nstring, numbers. Every failure is a ParseError, which the
 * session answers with `BAD` and goes on.
 */
import type { Segment } from '../framing.ts';

export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParseError';
  }
}

/** Deepest parenthesis nesting accepted in any command (search programs, lists). */
export const MAX_DEPTH = 16;

const SP = 0x20;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** ATOM-CHAR: any CHAR except atom-specials `( ) { SP CTL % * " \ ]` (RFC 3501 §9). */
export function isAtomChar(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x28 && c !== 0x29 && c !== 0x7b && c !== 0x25 && c !== 0x2a && c !== DQUOTE && c !== BACKSLASH && c !== 0x5d;
}

export class Cursor {
  readonly #segs: readonly Segment[];
  #seg = 0;
  #pos = 0;

  constructor(segments: readonly Segment[]) {
    this.#segs = segments.length ? segments : [{ line: Buffer.alloc(0) }];
  }

  get #line(): Buffer {
    return this.#segs[this.#seg].line;
  }

  /** The next byte, or -1 at the end of the command. */
  peek(): number {
    const line = this.#line;
    return this.#pos < line.length ? line[this.#pos] : -1;
  }

  peekChar(): string {
    const c = this.peek();
    return c < 0 ? '' : String.fromCharCode(c);
  }

  /** The next `n` characters of this line, not consumed. */
  lookAhead(n: number): string {
    return this.#line.subarray(this.#pos, this.#pos + n).toString('latin1');
  }

  atEnd(): boolean {
    return this.#seg === this.#segs.length - 1 && this.#pos >= this.#line.length;
  }

  /** Everything not read yet on this line (for AUTHENTICATE initial responses and error texts). */
  rest(): string {
    const s = this.#line.subarray(this.#pos).toString('utf8');
    this.#pos = this.#line.length;
    return s;
  }

  take(): number {
    const c = this.peek();
    if (c < 0) throw new ParseError('Unexpected end of command');
    this.#pos++;
    return c;
  }

  expect(ch: string): void {
    const c = this.peek();
    if (c !== ch.charCodeAt(0)) throw new ParseError(`Expected "${ch}"${c < 0 ? ' before the end of the command' : ` at "${this.#context()}"`}`);
    this.#pos++;
  }

  maybe(ch: string): boolean {
    if (this.peek() !== ch.charCodeAt(0)) return false;
    this.#pos++;
    return true;
  }

  sp(): void {
    if (this.peek() !== SP) throw new ParseError(this.peek() < 0 ? 'Missing argument' : `Expected a space at "${this.#context()}"`);
    this.#pos++;
  }

  end(): void {
    if (!this.atEnd()) throw new ParseError(`Unexpected text at "${this.#context()}"`);
  }

  #context(): string {
    return this.#line.subarray(this.#pos, this.#pos + 20).toString('latin1').replace(/[^\x20-\x7e]/g, '?');
  }

  /** Characters while `ok` holds (at least one). */
  chars(ok: (c: number) => boolean, what: string): string {
    const line = this.#line;
    const start = this.#pos;
    while (this.#pos < line.length && ok(line[this.#pos])) this.#pos++;
    if (this.#pos === start) throw new ParseError(this.peek() < 0 ? `Missing argument (${what})` : `Expected ${what} at "${this.#context()}"`);
    return line.subarray(start, this.#pos).toString('latin1');
  }

  atom(): string {
    return this.chars(isAtomChar, 'an atom');
  }

  number(): number {
    const s = this.chars((c) => c >= 0x30 && c <= 0x39, 'a number');
    if (s.length > 20) throw new ParseError('Number too large');
    const n = Number(s);
    if (!Number.isSafeInteger(n)) throw new ParseError('Number too large');
    return n;
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) throw new ParseError('Zero is not a valid number here');
    return n;
  }

  /** number (32-bit unsigned, RFC 3501 §9). */
  number32(): number {
    const n = this.number();
    if (n > 0xffffffff) throw new ParseError('Number out of range');
    return n;
  }

  isStringStart(): boolean {
    const c = this.peek();
    return c === DQUOTE || c === 0x7b;
  }

  /** quoted / literal, as bytes. */
  stringBytes(): Buffer {
    const c = this.peek();
    if (c === DQUOTE) return this.#quoted();
    if (c === 0x7b) return this.#literal();
    throw new ParseError(c < 0 ? 'Missing string' : `Expected a string at "${this.#context()}"`);
  }

  string(): string {
    return this.stringBytes().toString('utf8');
  }

  #quoted(): Buffer {
    const line = this.#line;
    this.#pos++;
    const out: number[] = [];
    for (;;) {
      if (this.#pos >= line.length) throw new ParseError('Unterminated quoted string');
      const c = line[this.#pos++];
      if (c === DQUOTE) return Buffer.from(out);
      if (c === BACKSLASH) {
        const n = this.#pos < line.length ? line[this.#pos++] : -1;
        if (n !== DQUOTE && n !== BACKSLASH) throw new ParseError('Invalid escape in quoted string (only \\" and \\\\)');
        out.push(n);
        continue;
      }
      if (c === 0x00 || c === 0x0d || c === 0x0a) throw new ParseError('Invalid character in quoted string');
      out.push(c);
    }
  }

  #literal(): Buffer {
    const seg = this.#segs[this.#seg];
    const m = /^\{([0-9]+)\+?\}$/.exec(seg.line.subarray(this.#pos).toString('latin1'));
    if (!m || !seg.literal) throw new ParseError('Invalid literal');
    if (this.#seg + 1 >= this.#segs.length) throw new ParseError('Literal without the rest of the command');
    const lit = seg.literal;
    this.#seg++;
    this.#pos = 0;
    return lit;
  }

  /** astring: 1*ASTRING-CHAR (atom chars and "]") or a string. */
  astringBytes(): Buffer {
    if (this.isStringStart()) return this.stringBytes();
    return Buffer.from(this.chars((c) => isAtomChar(c) || c === 0x5d, 'an astring'), 'latin1');
  }

  astring(): string {
    return this.astringBytes().toString('utf8');
  }

  /** nstring: string / NIL. */
  nstring(): string | null {
    if (this.isStringStart()) return this.string();
    const a = this.atom();
    if (a.toUpperCase() !== 'NIL') throw new ParseError('Expected a string or NIL');
    return null;
  }

  /** A parenthesised list of items read by `item` (space separated), or `()` . */
  list<T>(item: () => T, depth = 1): T[] {
    if (depth > MAX_DEPTH) throw new ParseError('Too deeply nested');
    this.expect('(');
    const out: T[] = [];
    if (this.maybe(')')) return out;
    for (;;) {
      out.push(item());
      if (this.maybe(')')) return out;
      if (this.peek() < 0) throw new ParseError('Unterminated parenthesised list');
      this.sp();
    }
  }

  /** flag: "\" atom / atom (RFC 3501 flag, flag-keyword); `\*` only where allowed. */
  flag(allowStar = false): string {
    if (this.maybe('\\')) {
      if (allowStar && this.maybe('*')) return '\\*';
      const a = this.atom();
      return '\\' + a.charAt(0).toUpperCase() + a.slice(1).toLowerCase();
    }
    return this.atom();
  }
}
