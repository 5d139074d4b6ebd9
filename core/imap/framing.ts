/**
 * IMAP command framing (RFC 3501 §2.2, §4.3; RFC 7888 LITERAL+): turns the byte stream into whole
 * commands — lines and the literals between them — holding no more than the configured bounds.
 *
 * A line ending in `{n}` announces a synchronising literal: the reader emits `continue` (the session
 * answers `+`) only after checking n against the limit, so an oversized literal is refused before a
 * byte of it is sent. A `{n+}` literal is sent without waiting; when it is too large its bytes are
 * counted and dropped, never buffered, and the command is refused.
 */

export interface Segment {
  /** The line text without CRLF (ends with the `{n}` marker when a literal follows). */
  readonly line: Buffer;
  readonly literal?: Buffer;
}

export type FrameEvent =
  | { readonly kind: 'command'; readonly segments: readonly Segment[] }
  /** A synchronising literal was accepted: send the `+` continuation request now. */
  | { readonly kind: 'continue' }
  /** The command was abandoned; answer `tag BAD/NO text` (tag is '*' when unknown). */
  | { readonly kind: 'reject'; readonly tag: string; readonly status: 'BAD' | 'NO'; readonly text: string };

export interface FramingLimits {
  /** Octets of command text (lines, without literals) in one command. */
  readonly maxLineLength: number;
  /** Largest literal of the given command (APPEND gets more than LOGIN); the first line is given. */
  literalLimit(firstLine: Buffer): number;
  /** Literals in one command. */
  readonly maxLiterals: number;
  /** Server-wide memory budget for literals being held: false refuses the literal for now. */
  reserve?(bytes: number): boolean;
  /** Give back what `reserve` took (the command was refused, or is being dropped). */
  release?(bytes: number): void;
}

const LF = 0x0a;
const CR = 0x0d;
const MARKER = /\{([0-9]{1,12})(\+?)\}$/;

type Mode =
  | { readonly m: 'line' }
  | { m: 'literal'; readonly size: number; parts: Buffer[]; got: number }
  /** Dropping a refused non-synchronising literal, then the rest of its command. */
  | { m: 'skip'; remaining: number };

export function tagOf(line: Buffer): string {
  const s = line.subarray(0, 64).toString('latin1');
  const m = /^([\x21-\x7e]+)/.exec(s);
  const tag = m?.[1] ?? '';
  return tag && !/[(){%*"\\+]/.test(tag) ? tag : '*';
}

export class CommandFramer {
  readonly #limits: FramingLimits;
  #mode: Mode = { m: 'line' };
  #line: Buffer[] = [];
  #lineBytes = 0;
  /** Bytes of command text so far (all lines of the command). */
  #commandBytes = 0;
  #overlong = false;
  #segments: Segment[] = [];
  #literalBytes = 0;
  /** The rest of the current command is being dropped (after a refused literal or an overlong line). */
  #dropping: { tag: string; text: string; status: 'BAD' | 'NO' } | undefined;

  constructor(limits: FramingLimits) {
    this.#limits = limits;
  }

  /** Bytes held for the command being assembled. */
  get buffered(): number {
    return this.#lineBytes + this.#literalBytes;
  }

  /** Forget everything (after STARTTLS: nothing sent before the handshake is trusted). */
  reset(): void {
    if (this.#literalBytes) this.#limits.release?.(this.#literalBytes);
    this.#mode = { m: 'line' };
    this.#line = [];
    this.#lineBytes = 0;
    this.#commandBytes = 0;
    this.#overlong = false;
    this.#segments = [];
    this.#literalBytes = 0;
    this.#dropping = undefined;
  }

  push(chunk: Buffer): FrameEvent[] {
    const out: FrameEvent[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      const mode = this.#mode;
      if (mode.m === 'literal') {
        const take = Math.min(mode.size - mode.got, chunk.length - pos);
        mode.parts.push(Buffer.from(chunk.subarray(pos, pos + take)));
        mode.got += take;
        pos += take;
        if (mode.got === mode.size) {
          const last = this.#segments.pop()!;
          this.#segments.push({ line: last.line, literal: Buffer.concat(mode.parts, mode.size) });
          this.#mode = { m: 'line' };
        }
        continue;
      }
      if (mode.m === 'skip') {
        const take = Math.min(mode.remaining, chunk.length - pos);
        mode.remaining -= take;
        pos += take;
        if (mode.remaining === 0) this.#mode = { m: 'line' };
        continue;
      }
      const lf = chunk.indexOf(LF, pos);
      const end = lf === -1 ? chunk.length : lf;
      const piece = chunk.subarray(pos, end);
      if (!this.#overlong) {
        // One byte over the limit is allowed for the CR before LF.
        if (this.#commandBytes + this.#lineBytes + piece.length > this.#limits.maxLineLength + 1) {
          this.#overlong = true;
          // Keep the start of the line for the tag.
          if (this.#segments.length === 0 && this.#line.length === 0) this.#line.push(Buffer.from(piece.subarray(0, 64)));
        } else if (piece.length) {
          this.#line.push(Buffer.from(piece));
          this.#lineBytes += piece.length;
        }
      }
      if (lf === -1) break;
      pos = lf + 1;
      this.#endOfLine(out);
    }
    return out;
  }

  #endOfLine(out: FrameEvent[]): void {
    let line = Buffer.concat(this.#line);
    this.#line = [];
    this.#lineBytes = 0;
    if (line.length && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
    const first = this.#segments[0]?.line ?? line;
    if (this.#overlong) {
      this.#overlong = false;
      this.#dropping ??= { tag: tagOf(first), status: 'BAD', text: `Command line too long (limit ${this.#limits.maxLineLength} octets)` };
      // Whatever literal the line announced is unknown now; treat the line as the command's end.
      this.#finish(out);
      return;
    }
    this.#commandBytes += line.length;
    const m = MARKER.exec(line.subarray(Math.max(0, line.length - 16)).toString('latin1'));
    if (!m) {
      if (!this.#dropping) this.#segments.push({ line });
      this.#finish(out);
      return;
    }
    const size = Number(m[1]);
    const sync = m[2] !== '+';
    if (!this.#dropping) {
      const limit = this.#limits.literalLimit(first);
      const problem = this.#segments.length + 1 > this.#limits.maxLiterals
        ? { status: 'BAD' as const, text: 'Too many literals in one command' }
        : this.#literalBytes + size > limit
          ? { status: 'NO' as const, text: `[TOOBIG] Literal too large (limit ${limit} octets)` }
          : this.#limits.reserve && !this.#limits.reserve(size)
            ? { status: 'NO' as const, text: '[UNAVAILABLE] Too much upload in progress on this server, try again later' }
            : undefined;
      if (problem) this.#dropping = { tag: tagOf(first), ...problem };
    }
    if (this.#dropping) {
      if (sync) {
        // RFC 3501 §7.5: no `+`, so the client sends no literal; the command ends here.
        this.#finish(out);
      } else if (size > 0) {
        this.#mode = { m: 'skip', remaining: size };
      }
      return;
    }
    this.#segments.push({ line });
    this.#literalBytes += size;
    if (size === 0) {
      this.#segments.push({ line: this.#segments.pop()!.line, literal: Buffer.alloc(0) });
    } else {
      this.#mode = { m: 'literal', size, parts: [], got: 0 };
    }
    if (sync) out.push({ kind: 'continue' });
  }

  #finish(out: FrameEvent[]): void {
    // A refused command's literals are not handed on: their reservation goes back now. (Delivered
    // commands' literals are released by the session once it has run them.)
    if (this.#dropping && this.#literalBytes) this.#limits.release?.(this.#literalBytes);
    if (this.#dropping) out.push({ kind: 'reject', ...this.#dropping });
    else out.push({ kind: 'command', segments: this.#segments });
    this.#segments = [];
    this.#commandBytes = 0;
    this.#literalBytes = 0;
    this.#dropping = undefined;
  }
}
