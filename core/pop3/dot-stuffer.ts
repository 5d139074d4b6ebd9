/**
 * The multi-line response body of RETR and TOP (RFC 1939 §3): line ends become CRLF (a bare LF or
 * a bare CR counts as a line end), a line starting with "." gets a second ".", and `finish()` adds
 * the closing ".\r\n" (after a CRLF when the message did not end with one).
 *
 * TOP (RFC 1939 §7): with `bodyLines` set, the header, the blank line after it and that many body
 * lines are sent, then `done` turns true and the caller stops reading the message.
 *
 * Byte-level state machine: nothing is buffered between chunks except one pending CR, so a message
 * with a gigantic line costs no memory.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const EXTRA_DOT = Buffer.from('.');
const TERMINATOR = Buffer.from('.\r\n');

export class DotStuffer {
  #atLineStart = true;
  #pendingCr = false;
  #lineLength = 0;
  #inHeader = true;
  #bodyLeft: number;
  #done = false;
  /** Message octets sent (CRLF line ends, without the stuffed dots and the terminator). */
  #payload = 0;

  /** `bodyLines`: TOP's k; undefined sends the whole message (RETR). */
  constructor(bodyLines?: number) {
    this.#bodyLeft = bodyLines ?? Infinity;
  }

  /** TOP's line count is reached: the rest of the message is not wanted. */
  get done(): boolean {
    return this.#done;
  }

  /** Octets of the message as sent: what LIST must have announced for RETR. */
  get payloadBytes(): number {
    return this.#payload;
  }

  /** Encode one chunk; returns the pieces to write (they may share memory with `chunk`). */
  push(chunk: Uint8Array): Buffer[] {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let start = 0;
    const flush = (end: number) => {
      if (end > start) {
        out.push(buf.subarray(start, end));
        this.#payload += end - start;
      }
    };
    for (let i = 0; i < buf.length; i++) {
      if (this.#done) {
        start = buf.length;
        break;
      }
      const b = buf[i];
      if (this.#pendingCr) {
        this.#pendingCr = false;
        this.#lineEnd(out);
        if (b === LF) {
          start = i + 1;
          continue;
        }
        // A bare CR ended the line; `b` starts the next one.
        if (this.#done) {
          start = buf.length;
          break;
        }
      }
      if (this.#atLineStart) {
        this.#atLineStart = false;
        this.#lineLength = 0;
        if (b === DOT) {
          flush(i);
          start = i;
          out.push(EXTRA_DOT);
        }
      }
      if (b === CR) {
        flush(i);
        start = i + 1;
        this.#pendingCr = true;
      } else if (b === LF) {
        flush(i);
        start = i + 1;
        this.#lineEnd(out);
      } else {
        this.#lineLength++;
      }
    }
    if (!this.#done) flush(buf.length);
    return out;
  }

  /** The end of the message: completes the last line and adds the ".\r\n" terminator. */
  finish(): Buffer[] {
    const out: Buffer[] = [];
    if (this.#pendingCr) {
      this.#pendingCr = false;
      this.#lineEnd(out);
    } else if (!this.#atLineStart && !this.#done) {
      this.#lineEnd(out);
    }
    out.push(TERMINATOR);
    return out;
  }

  #lineEnd(out: Buffer[]): void {
    out.push(CRLF);
    this.#payload += 2;
    const empty = this.#atLineStart || this.#lineLength === 0;
    this.#atLineStart = true;
    this.#lineLength = 0;
    if (this.#inHeader) {
      if (empty) {
        this.#inHeader = false;
        if (this.#bodyLeft <= 0) this.#done = true;
      }
    } else if (--this.#bodyLeft <= 0) {
      this.#done = true;
    }
  }
}
