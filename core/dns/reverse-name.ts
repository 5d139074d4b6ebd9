/**
 * IP addresses written the DNS way: reversed octets for IPv4 (RFC 1035 §3.5, RFC 5782 §2.1) and
 * reversed nibbles for IPv6 (RFC 3596 §2.5, RFC 5782 §2.4). Used for PTR names and DNSBL queries.
 */
import { isIP } from 'node:net';

/** The address without an IPv4-mapped IPv6 prefix (`::ffff:192.0.2.1` → `192.0.2.1`) or zone id. */
export function plainAddress(ip: string): string {
  const noZone = ip.replace(/%.*$/, '');
  const m = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(noZone);
  return m ? m[1] : noZone;
}

/** The 16 bytes of an IPv6 address, or undefined when it is not one. */
export function ipv6Bytes(ip: string): Uint8Array | undefined {
  if (isIP(ip) !== 6) return undefined;
  let text = ip.replace(/%.*$/, '');
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) becomes two hex groups.
  const quad = /(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number) as [number, number, number, number];
    text = text.slice(0, quad.index) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[i * 2] = v >> 8;
    out[i * 2 + 1] = v & 0xff;
  });
  return out;
}

/**
 * The labels to put in front of a zone: `2.0.0.127` for 127.0.0.2, 32 nibbles for IPv6.
 * IPv4-mapped IPv6 clients are looked up as the IPv4 address they are. Undefined for non-addresses.
 */
export function reversedLabels(ip: string): string | undefined {
  const plain = plainAddress(ip);
  const family = isIP(plain);
  if (family === 4) return plain.split('.').map(Number).reverse().join('.');
  if (family !== 6) return undefined;
  const bytes = ipv6Bytes(plain);
  if (!bytes) return undefined;
  const nibbles: string[] = [];
  for (const b of bytes) nibbles.push((b >> 4).toString(16), (b & 0xf).toString(16));
  return nibbles.reverse().join('.');
}

/** The PTR name of an address: `2.0.0.127.in-addr.arpa`, `….ip6.arpa`. */
export function ptrName(ip: string): string | undefined {
  const labels = reversedLabels(ip);
  if (!labels) return undefined;
  return `${labels}.${isIP(plainAddress(ip)) === 4 ? 'in-addr.arpa' : 'ip6.arpa'}`;
}

/** Same address, written either way (`::1` = `0:0::1`, `::ffff:10.0.0.1` = `10.0.0.1`). */
export function sameAddress(a: string, b: string): boolean {
  const x = reversedLabels(a);
  return x !== undefined && x === reversedLabels(b);
}
