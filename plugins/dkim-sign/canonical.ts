import { createHash, type Hash } from 'node:crypto';

/**
 * DKIM "relaxed" canonicalization (RFC 6376 §3.4.2, §3.4.4). Pure, byte-exact: text is handled
 * as latin1 so every octet maps to one character and back.
 */

/** One header field, raw (folding kept), without its final CRLF: `Subject: hi\r\n there`. */
export function relaxedHeader(field: string): string {
  const colon = field.indexOf(':');
  const name = field.slice(0, colon).trim().toLowerCase();
  const value = field.slice(colon + 1).replace(/\r\n(?=[ \t])/g, '').replace(/[ \t]+/g, ' ').trim();
  return `${name}:${value}`;
}

/**
 * The relaxed body hash, fed chunk by chunk (a large message is never held in memory):
 * trailing white space of each line removed, runs of white space reduced to one space, empty
 * lines at the end ignored; an empty body hashes as the empty string.
 */
export class RelaxedBodyHash {
  readonly #hash: Hash;
  #partial = '';
  #emptyRun = 0;

  constructor(algorithm = 'sha256') {
    this.#hash = createHash(algorithm);
  }

  update(chunk: Buffer): void {
    const text = this.#partial + chunk.toString('latin1');
    const lines = text.split('\n');
    this.#partial = lines.pop() ?? '';
    for (const l of lines) this.#line(l.endsWith('\r') ? l.slice(0, -1) : l);
  }

  #line(line: string): void {
    const canon = line.replace(/[ \t]+/g, ' ').replace(/ $/, '');
    if (canon === '') {
      this.#emptyRun++;
      return;
    }
    if (this.#emptyRun) this.#hash.update('\r\n'.repeat(this.#emptyRun), 'latin1');
    this.#emptyRun = 0;
    this.#hash.update(canon + '\r\n', 'latin1');
  }

  digest(): string {
    // A last line without CRLF still counts as a line (the CRLF is added).
    if (this.#partial) this.#line(this.#partial);
    this.#partial = '';
    return this.#hash.digest('base64');
  }
}

/** Split a raw header section (without the empty line) into fields, folding kept. */
export function headerFields(section: string): string[] {
  if (!section) return [];
  return section.replace(/\r\n$/, '').split(/\r\n(?![ \t])/).filter((f) => f.includes(':'));
}
