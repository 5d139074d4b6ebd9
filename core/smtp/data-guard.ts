import { Transform, type TransformCallback } from 'node:stream';

export interface GuardOptions {
  /** Longest line in octets, without its CRLF. */
  maxLineLength: number;
  /** Stop writing (but keep counting) past this many bytes. */
  maxBytes: number;
  /** Convert bare CR and bare LF to CRLF instead of flagging them. */
  normalize: boolean;
  /** Told how many bytes went by (the server's GC pacer). */
  onBytes?: (n: number) => void;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Watches DATA as it streams to the spool: flags bare CR or LF (RFC 5321 §2.3.8: the only line
 * ending is CRLF; a lone one is how SMTP smuggling splits one message into two at a less strict
 * next hop), flags over-long lines, and stops passing bytes past the size limit so an oversized
 * message never fills the disk. One pass, no copies except when normalising.
 */
export class DataGuard extends Transform {
  bareLineEndings = 0;
  longestLine = 0;
  bytesIn = 0;
  bytesOut = 0;
  oversized = false;
  #lineLen = 0;
  /** The previous chunk ended with CR: its meaning depends on the next byte. */
  #pendingCR = false;
  readonly #opts: GuardOptions;

  constructor(opts: GuardOptions) {
    super();
    this.#opts = opts;
  }

  get lineTooLong(): boolean {
    return this.longestLine > this.#opts.maxLineLength;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytesIn += chunk.length;
    this.#opts.onBytes?.(chunk.length);
    const normalize = this.#opts.normalize;
    const out: number[] | null = normalize ? [] : null;
    let start = 0;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (chunk[0] === LF) {
        out?.push(CR, LF);
        start = 1;
        this.#lineLen = 0;
      } else {
        this.bareLineEndings++;
        out?.push(CR, LF);
        this.#lineLen = 0;
      }
    }
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) {
        if (i + 1 === chunk.length) {
          this.#pendingCR = true;
          break;
        }
        if (chunk[i + 1] === LF) {
          out?.push(CR, LF);
          i++;
        } else {
          this.bareLineEndings++;
          out?.push(CR, LF);
        }
        this.#endLine();
      } else if (b === LF) {
        this.bareLineEndings++;
        out?.push(CR, LF);
        this.#endLine();
      } else {
        this.#lineLen++;
        out?.push(b);
      }
    }
    if (this.#lineLen > this.longestLine) this.longestLine = this.#lineLen;
    // Without normalising, bytes pass as they came (a trailing CR included); with it, a trailing
    // CR is held back and written once the next chunk says what it was.
    this.#emit(out ? Buffer.from(out) : chunk, cb);
  }

  #endLine(): void {
    if (this.#lineLen > this.longestLine) this.longestLine = this.#lineLen;
    this.#lineLen = 0;
  }

  #emit(data: Buffer, cb: TransformCallback): void {
    if (this.oversized || this.bytesOut + data.length > this.#opts.maxBytes) {
      this.oversized = true;
      return cb();
    }
    this.bytesOut += data.length;
    cb(null, data);
  }

  override _flush(cb: TransformCallback): void {
    if (this.#pendingCR) {
      // A CR at the very end of the body (before the terminator's CRLF was stripped) is bare.
      this.bareLineEndings++;
      this.#pendingCR = false;
      if (this.#opts.normalize) return this.#emit(Buffer.from([CR, LF]), cb);
    }
    cb();
  }
}
