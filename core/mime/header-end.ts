/**
 * Where a message's header section ends (RFC 5322 §2.1: header fields, an empty line, the body).
 * A blank line is an empty line ended by LF or CRLF (bare LF accepted, as every reader here does).
 * Shared by the IMAP message layer and the plugins that read only headers (dkim-verify's unsigned
 * shortcut, spam-score's facts).
 */
const LF = 10;
const CR = 13;

/**
 * For bytes that start a message or a MIME part: the index just past the blank line, or -1 when the
 * first `length` bytes hold none. Starting with a blank line means an empty header section.
 */
export function headerEnd(buf: Uint8Array, length = buf.length): number {
  if (length > 0 && buf[0] === LF) return 1;
  if (length > 1 && buf[0] === CR && buf[1] === LF) return 2;
  return blankLineEnd(buf, length);
}

/**
 * For bytes that may start mid-line (a scan carried over between chunks): the index just past the
 * first line end followed by an empty line (LF, then LF or CRLF), or -1.
 */
export function blankLineEnd(buf: Uint8Array, length = buf.length): number {
  let i = 0;
  for (;;) {
    i = buf.indexOf(LF, i);
    if (i < 0 || i + 1 >= length) return -1;
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && i + 2 < length && buf[i + 2] === LF) return i + 3;
    i++;
  }
}
