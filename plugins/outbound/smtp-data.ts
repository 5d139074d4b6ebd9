/**
 * The message as it goes after DATA (RFC 5321 §4.1.1.4, §4.5.2): lines end in CRLF (a bare LF
 * gets its CR), a line starting with "." gets another ".", and ".\r\n" ends it. Pure and
 * streaming: chunks may split a CRLF or start in the middle of a line.
 */
const CR = 13;
const LF = 10;
const DOT = 46;
const CRLF = Buffer.from('\r\n');
const EXTRA_DOT = Buffer.from('.');
const END = Buffer.from('.\r\n');
const CRLF_END = Buffer.from('\r\n.\r\n');

export class DotStuffer {
  #lineStart = true;
  #lastCr = false;

  /** The chunk as sent: stuffed, bare LFs made CRLF. The same buffer when nothing changes. */
  push(chunk: Buffer): Buffer {
    if (!chunk.length) return chunk;
    const parts: Buffer[] = [];
    let from = 0;
    if (this.#lineStart && chunk[0] === DOT) parts.push(EXTRA_DOT);
    for (let nl = chunk.indexOf(LF); nl >= 0; nl = chunk.indexOf(LF, nl + 1)) {
      const crBefore = nl > 0 ? chunk[nl - 1] === CR : this.#lastCr;
      if (!crBefore) {
        parts.push(chunk.subarray(from, nl), CRLF);
        from = nl + 1;
      }
      if (nl + 1 < chunk.length && chunk[nl + 1] === DOT) {
        parts.push(chunk.subarray(from, nl + 1), EXTRA_DOT);
        from = nl + 1;
      }
    }
    const last = chunk[chunk.length - 1];
    this.#lineStart = last === LF;
    this.#lastCr = last === CR;
    if (!parts.length) return chunk;
    parts.push(chunk.subarray(from));
    return Buffer.concat(parts);
  }

  /** The terminator: CRLF first when the message did not end with a line break. */
  end(): Buffer {
    if (this.#lineStart) return END;
    // A trailing CR is completed by the LF of CRLF_END's first pair.
    return this.#lastCr ? CRLF_END.subarray(1) : CRLF_END;
  }
}
