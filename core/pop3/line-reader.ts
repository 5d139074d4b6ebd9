/**
 * POP3 command-line framing: splits the byte stream into lines ending in CRLF (a bare LF is
 * accepted too), never holding more than `maxLineLength` bytes of one line. A longer line is
 * discarded up to its end and reported as `{ overlong: true }`, in order with the other lines, so
 * the session answers `-ERR` at the right place in a pipeline.
 */

export type LineEvent = { readonly line: string } | { readonly overlong: true };

const LF = 0x0a;
const CR = 0x0d;

export class LineReader {
  readonly #max: number;
  #parts: Buffer[] = [];
  #length = 0;
  #discarding = false;

  /** `maxLineLength`: the most bytes a line may have, not counting its CRLF. */
  constructor(maxLineLength: number) {
    this.#max = maxLineLength;
  }

  /** Bytes of an unfinished line held now (at most maxLineLength + 1). */
  get buffered(): number {
    return this.#length;
  }

  /** Feed bytes; returns the lines completed by them. */
  push(chunk: Buffer): LineEvent[] {
    const out: LineEvent[] = [];
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(LF, start);
      const end = lf === -1 ? chunk.length : lf;
      if (!this.#discarding) {
        const piece = chunk.subarray(start, end);
        // One byte more than the limit is allowed for a CR that turns out to precede the LF.
        if (this.#length + piece.length > this.#max + 1) {
          this.#discarding = true;
          this.#parts = [];
          this.#length = 0;
        } else if (piece.length) {
          this.#parts.push(Buffer.from(piece));
          this.#length += piece.length;
        }
      }
      if (lf === -1) break;
      start = lf + 1;
      if (this.#discarding) {
        this.#discarding = false;
        out.push({ overlong: true });
        continue;
      }
      let line = this.#parts.length === 1 ? this.#parts[0] : Buffer.concat(this.#parts, this.#length);
      this.#parts = [];
      this.#length = 0;
      if (line.length && line[line.length - 1] === CR) line = line.subarray(0, line.length - 1);
      if (line.length > this.#max) out.push({ overlong: true });
      else out.push({ line: line.toString('utf8') });
    }
    return out;
  }

  /** Forget everything not yet returned (after STLS: bytes sent before the handshake are not trusted). */
  reset(): void {
    this.#parts = [];
    this.#length = 0;
    this.#discarding = false;
  }
}
