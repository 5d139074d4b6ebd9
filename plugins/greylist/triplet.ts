/**
 * The greylisting triplet (RFC 6647 §4.1): client network, envelope sender, envelope recipient.
 * Pure: no hooks, no store.
 */
import { createHash } from 'node:crypto';
import { formatIp, parseIp } from '../relay-acl/cidr.ts';

/**
 * The client's network as text (`192.0.2.0/24`, `2001:db8:1:2::/64`). Large senders retry from
 * another server of the same pool, so the address is cut to its network (RFC 6647 §4.1).
 * Something that is not an IP address (a unix socket) is used as it is.
 */
export function clientNetwork(address: string, v4Prefix: number, v6Prefix: number): string {
  const ip = parseIp(address);
  if (!ip) return address;
  const prefix = ip.family === 4 ? v4Prefix : v6Prefix;
  const bytes = Uint8Array.from(ip.bytes);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${formatIp({ family: ip.family, bytes })}/${prefix}`;
}

/** A bounded, stable store key for the triplet; addresses compare case-insensitively. */
export function tripletKey(network: string, sender: string, recipient: string): string {
  return createHash('sha256').update(`${network}\0${sender.toLowerCase()}\0${recipient.toLowerCase()}`).digest('base64url').slice(0, 32);
}

/** The domain part of an address, lower-cased; '' for the null sender. */
export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** True when `name` is one of `domains` or below one. */
export function inDomains(name: string | undefined, domains: readonly string[]): boolean {
  if (!name) return false;
  const n = name.toLowerCase().replace(/\.$/, '');
  return domains.some((d) => n === d || n.endsWith(`.${d}`));
}
