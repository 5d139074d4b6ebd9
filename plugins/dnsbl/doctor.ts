/**
 * `pochta doctor blacklists`: is this server's own sending address on a block list? Uses the same
 * zones, codes and lookups as the dnsbl plugin, so what the doctor says is what a receiver using
 * those lists would see.
 */
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { DnsResolver } from '../../core/dns.ts';
import { compileRanges } from './codes.ts';
import { DnsblConfig } from './config.ts';
import { queryZones, type ZoneResult } from './lookup.ts';

export interface BlacklistRow extends ZoneResult {
  readonly address: string;
}

/** The host's own addresses: every non-internal interface address (link-local IPv6 left out). */
export function interfaceAddresses(): string[] {
  const out: string[] = [];
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (a.family === 'IPv6' && /^fe80:/i.test(a.address))) continue;
      out.push(a.address);
    }
  }
  return [...new Set(out)];
}

/** Ask every configured block list about every address, all at once. */
export async function checkBlacklists(dns: DnsResolver, rawConfig: unknown, addresses: readonly string[]): Promise<BlacklistRow[]> {
  const cfg = DnsblConfig.parse(rawConfig ?? {});
  const errorCodes = compileRanges(cfg.errorCodes);
  const specs = cfg.zones.map((z) => ({ zone: z.zone, returnCodes: compileRanges(z.returnCodes) }));
  const perAddress = await Promise.all(addresses.map(async (address) =>
    (await queryZones(dns, address, specs, errorCodes, cfg.budgetMs)).map((r) => ({ ...r, address }))));
  return perAddress.flat();
}

export function describeResult(r: ZoneResult): string {
  switch (r.status) {
    case 'listed': return `LISTED (${r.codes.join(', ')})`;
    case 'clear': return 'not listed';
    case 'refused': return `unknown: the list refused the query (${r.codes.join(', ')}); it may not serve this resolver`;
    case 'timeout': return 'unknown: no answer in time';
    case 'error': return `unknown: ${r.detail ?? 'lookup failed'}`;
  }
}

/** A plain text table: address, zone, result. */
export function formatTable(rows: readonly BlacklistRow[]): string {
  const cells = [['address', 'zone', 'result'], ...rows.map((r) => [r.address, r.zone, describeResult(r)])];
  const w = [0, 1].map((i) => Math.max(...cells.map((c) => (c[i] ?? '').length)));
  return cells.map((c) => `${(c[0] ?? '').padEnd(w[0] ?? 0)}  ${(c[1] ?? '').padEnd(w[1] ?? 0)}  ${c[2] ?? ''}`).join('\n');
}

/** Which addresses to check: --ip, else the config's outboundAddresses, else the interfaces. */
export function pickAddresses(cliIps: readonly string[], rawConfig: unknown): string[] {
  const bad = cliIps.filter((ip) => isIP(ip) === 0);
  if (bad.length) throw new Error(`not an IP address: ${bad.join(', ')}`);
  if (cliIps.length) return [...cliIps];
  const cfg = DnsblConfig.parse(rawConfig ?? {});
  return cfg.outboundAddresses.length ? [...cfg.outboundAddresses] : interfaceAddresses();
}
