/**
 * IP addresses and CIDR networks (RFC 4632 for IPv4, RFC 4291 §2.3 for IPv6 prefixes), pure and
 * dependency-free apart from node:net's syntax checks.
 *
 * IPv4-mapped IPv6 addresses (RFC 4291 §2.5.5.2, `::ffff:192.0.2.1`) are what a dual-stack socket
 * reports for an IPv4 client; they are folded into plain IPv4 everywhere, so `10.0.0.0/8` matches
 * the client `::ffff:10.1.2.3`, and `::ffff:10.0.0.0/104` is the same network as `10.0.0.0/8`.
 */
import net from 'node:net';

export type Family = 4 | 6;

export interface IpAddress {
  readonly family: Family;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Uint8Array;
}

export interface Network extends IpAddress {
  readonly prefix: number;
  /** Canonical text, e.g. `10.0.0.0/8` or `2001:db8::/32`; mapped networks are shown as IPv4. */
  readonly text: string;
}

export type CidrResult = { ok: true; network: Network } | { ok: false; error: string };

function parseIpv4(text: string): Uint8Array {
  return Uint8Array.from(text.split('.').map(Number));
}

/** Expand an IPv6 address (already syntax-checked by net.isIPv6, zone id removed) to 16 bytes. */
function parseIpv6(text: string): Uint8Array {
  let s = text;
  const tail: number[] = [];
  // RFC 4291 §2.2 form 3: the last 32 bits may be written as a dotted quad.
  const lastColon = s.lastIndexOf(':');
  const last = s.slice(lastColon + 1);
  if (last.includes('.')) {
    const v4 = parseIpv4(last);
    tail.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
    s = s.slice(0, lastColon + 1);
    // Drop the colon before the dotted quad unless it is half of a "::".
    if (!s.endsWith('::')) s = s.slice(0, -1);
  }
  const groups = (half: string) => (half === '' ? [] : half.split(':').map((g) => parseInt(g, 16)));
  let words: number[];
  const dbl = s.indexOf('::');
  if (dbl >= 0) {
    const head = groups(s.slice(0, dbl));
    const rest = groups(s.slice(dbl + 2));
    const fill = 8 - head.length - rest.length - tail.length;
    words = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    words = [...groups(s), ...tail];
  }
  const out = new Uint8Array(16);
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 0xff; });
  return out;
}

/** True for ::ffff:a.b.c.d (RFC 4291 §2.5.5.2). */
function isMapped(b: Uint8Array): boolean {
  if (b.length !== 16) return false;
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parse an IP address. IPv4-mapped IPv6 addresses come back as IPv4; an IPv6 zone id
 * (`fe80::1%eth0`, RFC 6874) is ignored. Undefined when the text is not an address.
 */
export function parseIp(text: string): IpAddress | undefined {
  const t = text.trim();
  if (net.isIPv4(t)) return { family: 4, bytes: parseIpv4(t) };
  if (!net.isIPv6(t)) return undefined;
  const bytes = parseIpv6(t.replace(/%.*$/, ''));
  return isMapped(bytes) ? { family: 4, bytes: bytes.slice(12) } : { family: 6, bytes };
}

/** Text of an address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) return [...ip.bytes].join('.');
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((ip.bytes[i] << 8) | ip.bytes[i + 1]);
  // RFC 5952 §4.2.3: compress the longest run of two or more zero groups, the first on ties.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (best < 0) return hex(words);
  return `${hex(words.slice(0, best))}::${hex(words.slice(best + bestLen))}`;
}

function hostBitsSet(bytes: Uint8Array, prefix: number): boolean {
  for (let bit = prefix; bit < bytes.length * 8; bit++) {
    if (bytes[bit >> 3] & (0x80 >> (bit & 7))) return true;
  }
  return false;
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = bytes.slice();
  for (let bit = prefix; bit < out.length * 8; bit++) out[bit >> 3] &= ~(0x80 >> (bit & 7));
  return out;
}

/**
 * Parse `address/prefix`, or a bare address (a /32 or /128 network). Host bits set below the
 * prefix (`10.1.2.3/8`) are an error naming the intended network: in an access list a typo must
 * not silently widen or narrow who may relay.
 */
export function parseCidr(text: string): CidrResult {
  const t = text.trim();
  const slash = t.indexOf('/');
  const addrText = slash < 0 ? t : t.slice(0, slash);
  if (addrText.includes('%')) return { ok: false, error: `"${text}": a network must not carry an IPv6 zone id` };
  if (!net.isIPv4(addrText) && !net.isIPv6(addrText)) return { ok: false, error: `"${text}" is not an IPv4 or IPv6 network (expected e.g. 10.0.0.0/8 or 2001:db8::/32)` };
  const v6 = net.isIPv6(addrText);
  let bytes = v6 ? parseIpv6(addrText) : parseIpv4(addrText);
  const max = bytes.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) return { ok: false, error: `"${text}": prefix length must be 0-${max}` };
    prefix = Number(p);
  }
  if (hostBitsSet(bytes, prefix)) {
    const fixed = formatIp({ family: v6 ? 6 : 4, bytes: masked(bytes, prefix) });
    return { ok: false, error: `"${text}" has host bits set; did you mean ${fixed}/${prefix}?` };
  }
  let family: Family = v6 ? 6 : 4;
  if (v6 && prefix >= 96 && isMapped(bytes)) {
    bytes = bytes.slice(12);
    prefix -= 96;
    family = 4;
  }
  const network = { family, bytes, prefix };
  return { ok: true, network: { ...network, text: `${formatIp(network)}/${prefix}` } };
}

/** Undefined when `text` is a valid network, otherwise why not (for config validation). */
export function cidrProblem(text: string): string | undefined {
  const r = parseCidr(text);
  return r.ok ? undefined : r.error;
}

/** Whether `ip` lies inside `network`. Families never cross (mapped addresses are IPv4 already). */
export function contains(network: Network, ip: IpAddress): boolean {
  if (network.family !== ip.family) return false;
  const full = network.prefix >> 3;
  for (let i = 0; i < full; i++) if (network.bytes[i] !== ip.bytes[i]) return false;
  const rest = network.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (network.bytes[full] & mask) === (ip.bytes[full] & mask);
}

/** The first network in `networks` containing `address`, or undefined (also for a non-address). */
export function findNetwork(networks: readonly Network[], address: string): Network | undefined {
  const ip = parseIp(address);
  if (!ip) return undefined;
  return networks.find((n) => contains(n, ip));
}
