import { isIP } from 'node:net';
import type { DnsResolver } from '../../core/dns.ts';

/** One host to try, with the addresses it resolved to (in the order to try them). */
export interface MxHost {
  readonly name: string;
  readonly preference: number;
  readonly addresses: readonly string[];
  /** True for the RFC 5321 §5.1 implicit MX (no MX records: the domain's own A/AAAA). */
  readonly implicit: boolean;
}

export type MxResult =
  | { readonly kind: 'hosts'; readonly hosts: readonly MxHost[] }
  /** RFC 7505: a single MX "." — the domain accepts no mail. */
  | { readonly kind: 'null-mx' }
  | { readonly kind: 'permfail'; readonly reason: string }
  | { readonly kind: 'tempfail'; readonly reason: string };

const code = (err: unknown) => (err as { code?: string }).code ?? '';
/** Answers that mean "no such data", as opposed to a DNS failure worth retrying. */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND', 'NXDOMAIN']);

/** Shuffle in place with Math.random (RFC 5321 §5.1: random order among equal preferences). */
function shuffle<T>(a: T[], random: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Sort by preference, shuffling each group of equal preference. */
export function orderMx<T extends { priority: number }>(records: readonly T[], random: () => number = Math.random): T[] {
  const groups = new Map<number, T[]>();
  for (const r of records) groups.set(r.priority, [...(groups.get(r.priority) ?? []), r]);
  return [...groups.keys()].sort((a, b) => a - b).flatMap((p) => shuffle(groups.get(p)!, random));
}

/** A and AAAA of a host; IPv4 first (the loopback-tested path), both when present. */
export async function addressesOf(dns: DnsResolver, host: string): Promise<{ addresses: string[]; tempError?: string }> {
  if (isIP(host)) return { addresses: [host] };
  const [v4, v6] = await Promise.allSettled([dns.resolve4(host), dns.resolve6(host)]);
  const addresses = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
  const errs = [v4, v6].filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => code(r.reason));
  const temp = errs.find((c) => !NO_DATA.has(c));
  return temp && !addresses.length ? { addresses, tempError: `${host}: ${temp}` } : { addresses };
}

/**
 * The hosts to try for a domain (RFC 5321 §5.1): MX records by preference (random among equals),
 * each resolved to addresses; no MX at all → the domain itself (implicit MX); a null MX (RFC 7505)
 * → the domain accepts no mail. DNS failures are temporary; a domain that does not exist, or
 * whose hosts all have no address, is permanent.
 */
export async function resolveMx(dns: DnsResolver, domain: string, opts: { maxHosts: number; random?: () => number }): Promise<MxResult> {
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = await dns.resolveMx(domain);
  } catch (err) {
    const c = code(err);
    if (c === 'ENOTFOUND' || c === 'NXDOMAIN') return { kind: 'permfail', reason: `domain ${domain} does not exist (NXDOMAIN)` };
    if (c !== 'ENODATA') return { kind: 'tempfail', reason: `MX lookup for ${domain} failed: ${c || (err as Error).message}` };
    records = [];
  }
  // RFC 7505 §3: a null MX is a single record with exchange "." (node gives "").
  const isNull = (e: string) => e === '' || e === '.';
  if (records.some((r) => isNull(r.exchange))) {
    return records.length === 1 ? { kind: 'null-mx' } : { kind: 'permfail', reason: `${domain} publishes a null MX among other MX records` };
  }
  if (!records.length) {
    const a = await addressesOf(dns, domain);
    if (a.tempError) return { kind: 'tempfail', reason: `address lookup for ${domain} failed: ${a.tempError}` };
    if (!a.addresses.length) return { kind: 'permfail', reason: `${domain} has no MX and no address records` };
    return { kind: 'hosts', hosts: [{ name: domain, preference: 0, addresses: a.addresses, implicit: true }] };
  }
  const ordered = orderMx(records, opts.random).slice(0, opts.maxHosts);
  const hosts: MxHost[] = [];
  let temp: string | undefined;
  for (const r of ordered) {
    const name = r.exchange.replace(/\.$/, '').toLowerCase();
    const a = await addressesOf(dns, name);
    if (a.tempError) temp ??= a.tempError;
    if (a.addresses.length) hosts.push({ name, preference: r.priority, addresses: a.addresses, implicit: false });
  }
  if (!hosts.length) {
    return temp ? { kind: 'tempfail', reason: `no MX host of ${domain} resolved (${temp})` } : { kind: 'permfail', reason: `no MX host of ${domain} has an address` };
  }
  return { kind: 'hosts', hosts };
}
