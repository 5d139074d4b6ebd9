/**
 * Content decoding for SEARCH: RFC 2047 encoded words, RFC 2045 §6.7/§6.8 transfer encodings as
 * streaming decoders (bounded state across chunks), and charsets to UTF-8 (WHATWG TextDecoder).
 */
import { TextDecoder } from 'node:util';

/** A TextDecoder for `charset`; unknown charsets fall back to UTF-8 with replacement characters. */
export function charsetDecoder(charset: string | undefined): TextDecoder {
  const label = (charset ?? '').trim().toLowerCase();
  if (label === '' || label === 'us-ascii' || label === 'ascii') return new TextDecoder('utf-8');
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('utf-8');
  }
}

/** RFC 2047 §4: `=?charset?B|Q?text?=` words decoded; whitespace between adjacent encoded words dropped (§6.2). */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  const re = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
  let out = '';
  let last = 0;
  let prevEncoded = false;
  for (let m = re.exec(value); m !== null; m = re.exec(value)) {
    const between = value.slice(last, m.index);
    if (!(prevEncoded && /^\s*$/.test(between))) out += between;
    const charset = (m[1] ?? '').split('*')[0]; // RFC 2231 §5 language suffix
    const text = m[3] ?? '';
    let bytes: Buffer;
    if ((m[2] ?? '').toUpperCase() === 'B') bytes = Buffer.from(text, 'base64');
    else bytes = qpDecodeWord(text);
    out += charsetDecoder(charset).decode(bytes);
    last = m.index + m[0].length;
    prevEncoded = true;
  }
  return out + value.slice(last);
}

function qpDecodeWord(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '_') bytes.push(0x20);
    else if (c === '=' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(text.charCodeAt(i) & 0xff);
  }
  return Buffer.from(bytes);
}

/** Streaming transfer decoder: feed chunks, then `end()`. */
export interface ByteDecoder {
  write(chunk: Buffer): Buffer;
  end(): Buffer;
}

export function transferDecoder(encoding: string): ByteDecoder {
  const enc = encoding.toLowerCase();
  if (enc === 'base64') return base64Decoder();
  if (enc === 'quoted-printable') return qpDecoder();
  return { write: (c) => c, end: () => Buffer.alloc(0) };
}

function base64Decoder(): ByteDecoder {
  let carry = '';
  return {
    write(chunk) {
      // Drop everything outside the alphabet (line ends, padding), keep a partial quantum for next time.
      const s = carry + chunk.toString('latin1').replace(/[^A-Za-z0-9+/]+/g, '');
      const whole = s.length - (s.length % 4);
      carry = s.slice(whole);
      return Buffer.from(s.slice(0, whole), 'base64');
    },
    end() {
      const out = Buffer.from(carry, 'base64');
      carry = '';
      return out;
    },
  };
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** RFC 2045 §6.7: `=XX` octets, `=` at line end is a soft break; at most 2 bytes carried across chunks. */
function qpDecoder(): ByteDecoder {
  let carry: Buffer = Buffer.alloc(0);
  const run = (input: Buffer, final: boolean): Buffer => {
    const out = Buffer.allocUnsafe(input.length);
    let o = 0;
    let i = 0;
    for (; i < input.length; i++) {
      const c = input[i] ?? 0;
      if (c !== 0x3d) {
        out[o++] = c;
        continue;
      }
      if (i + 2 >= input.length && !final) break; // need more bytes to decide
      const a = input[i + 1];
      const b = input[i + 2];
      if (a === 0x0a) {
        i += 1; // soft break "=\n"
      } else if (a === 0x0d && b === 0x0a) {
        i += 2; // soft break "=\r\n"
      } else if (a !== undefined && b !== undefined && hex(a) >= 0 && hex(b) >= 0) {
        out[o++] = hex(a) * 16 + hex(b);
        i += 2;
      } else out[o++] = c;
    }
    carry = input.subarray(i);
    return out.subarray(0, o);
  };
  return {
    write: (chunk) => run(carry.length ? Buffer.concat([carry, chunk]) : chunk, false),
    end: () => (carry.length ? run(carry, true) : Buffer.alloc(0)),
  };
}
