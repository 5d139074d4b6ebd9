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
export class DataGuard {
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
    this.#opts = opts;
  }

  get lineTooLong(): boolean {
    return this.longestLine > this.#opts.maxLineLength;
  }

  /**
   * One chunk of DATA through the checks: the bytes to store (undefined when nothing is to be stored:
   * past the size limit). Chunks in the order they arrived (core/smtp/receive-data.ts).
   */
  accept(chunk: Buffer): Buffer | undefined {
    this.bytesIn += chunk.length;
    this.#opts.onBytes?.(chunk.length);
    if (!this.#opts.normalize) {
      this.#scan(chunk);
      // Bytes pass as they came, a trailing CR included.
      return this.#emit(chunk);
    }
    const out: number[] = [];
    let start = 0;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (chunk[0] === LF) start = 1;
      else this.bareLineEndings++;
      out.push(CR, LF);
      this.#endLine();
    }
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i];
      if (b === CR) {
        if (i + 1 === chunk.length) {
          // Held back: the next chunk says whether it was CRLF.
          this.#pendingCR = true;
          break;
        }
        if (chunk[i + 1] === LF) i++;
        else this.bareLineEndings++;
        out.push(CR, LF);
        this.#endLine();
      } else if (b === LF) {
        this.bareLineEndings++;
        out.push(CR, LF);
        this.#endLine();
      } else {
        this.#lineLen++;
        out.push(b);
      }
    }
    if (this.#lineLen > this.longestLine) this.longestLine = this.#lineLen;
    return this.#emit(Buffer.from(out));
  }

  /**
   * The check without normalising, with native searches (indexOf) instead of a loop over every
   * byte: a 100 KB message is a handful of calls. Line lengths are measured between LFs; a bare
   * CR is counted as a bare line ending (the message is refused for that already).
   */
  #scan(chunk: Buffer): void {
    const n = chunk.length;
    let i = 0;
    if (this.#pendingCR) {
      this.#pendingCR = false;
      if (n > 0 && chunk[0] === LF) i = 1;
      else this.bareLineEndings++;
      this.#endLine();
    }
    while (i < n) {
      const lf = chunk.indexOf(LF, i);
      const segEnd = lf === -1 ? n : lf;
      for (let cr = chunk.indexOf(CR, i); cr !== -1 && cr < segEnd; cr = chunk.indexOf(CR, cr + 1)) {
        if (lf !== -1 && cr === lf - 1) continue; // CRLF
        if (lf === -1 && cr === n - 1) this.#pendingCR = true; // decided by the next chunk
        else this.bareLineEndings++;
      }
      if (lf === -1) {
        this.#lineLen += n - i - (this.#pendingCR ? 1 : 0);
        break;
      }
      const crlf = lf - 1 >= i && chunk[lf - 1] === CR;
      if (!crlf) this.bareLineEndings++;
      this.#lineLen += lf - i - (crlf ? 1 : 0);
      this.#endLine();
      i = lf + 1;
    }
    if (this.#lineLen > this.longestLine) this.longestLine = this.#lineLen;
  }

  #endLine(): void {
    if (this.#lineLen > this.longestLine) this.longestLine = this.#lineLen;
    this.#lineLen = 0;
  }

  #emit(data: Buffer): Buffer | undefined {
    if (this.oversized || this.bytesOut + data.length > this.#opts.maxBytes) {
      this.oversized = true;
      return undefined;
    }
    this.bytesOut += data.length;
    return data;
  }

  /** The end of DATA: whatever a held-back CR still owes (see accept). */
  finish(): Buffer | undefined {
    if (!this.#pendingCR) return undefined;
    // A CR at the very end of the body (before the terminator's CRLF was stripped) is bare.
    this.bareLineEndings++;
    this.#pendingCR = false;
    return this.#opts.normalize ? this.#emit(Buffer.from([CR, LF])) : undefined;
  }
}
