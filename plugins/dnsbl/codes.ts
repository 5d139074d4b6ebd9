/**
 * Return codes of DNS lists: the A records a listed name answers with (RFC 5782 §2.1: addresses in
 * 127.0.0.0/8). A list says *why* with the code (Spamhaus ZEN: 127.0.0.2-127.0.0.11), and says
 * "I refused your query" with codes of its own (Spamhaus: 127.255.255.252 typo, .254 public
 * resolver, .255 too many queries), which must never be read as "listed".
 */
import { isIP } from 'node:net';

/** An inclusive range of IPv4 addresses as unsigned 32-bit numbers. */
export interface CodeRange {
  readonly lo: number;
  readonly hi: number;
  readonly text: string;
}

export function ipv4ToNumber(ip: string): number | undefined {
  if (isIP(ip) !== 4) return undefined;
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/** `127.0.0.2`, `127.0.0.2-127.0.0.11` or `127.0.0.0/24`; a string says what is wrong. */
export function parseCodeRange(text: string): CodeRange | string {
  const t = text.trim();
  const dash = /^([^-]+)-([^-]+)$/.exec(t);
  if (dash) {
    const lo = ipv4ToNumber(dash[1].trim());
    const hi = ipv4ToNumber(dash[2].trim());
    if (lo === undefined || hi === undefined) return `"${text}" is not a range of IPv4 addresses`;
    if (lo > hi) return `"${text}": the range ends before it starts`;
    return { lo, hi, text: t };
  }
  const slash = /^([^/]+)\/(\d{1,2})$/.exec(t);
  if (slash) {
    const base = ipv4ToNumber(slash[1]);
    const bits = Number(slash[2]);
    if (base === undefined || bits > 32) return `"${text}" is not an IPv4 network`;
    const size = 2 ** (32 - bits);
    const lo = Math.floor(base / size) * size;
    if (lo !== base) return `"${text}" has host bits set`;
    return { lo, hi: lo + size - 1, text: t };
  }
  const one = ipv4ToNumber(t);
  if (one === undefined) return `"${text}" is not an IPv4 address, range (a-b) or network (a/n)`;
  return { lo: one, hi: one, text: t };
}

export function compileRanges(texts: readonly string[]): CodeRange[] {
  return texts.map((t) => {
    const r = parseCodeRange(t);
    if (typeof r === 'string') throw new Error(r);
    return r;
  });
}

export function inRanges(ranges: readonly CodeRange[], ip: string): boolean {
  const n = ipv4ToNumber(ip);
  return n !== undefined && ranges.some((r) => n >= r.lo && n <= r.hi);
}

/** RFC 5782 §2.1: list entries are A records in 127.0.0.0/8. */
export const LOOPBACK_NET: CodeRange = Object.freeze({ lo: 0x7f000000, hi: 0x7fffffff, text: '127.0.0.0/8' });
