/**
 * From list answers to listings, no hooks: which configured block lists the client is on, the
 * most severe action first, and the evidence each one records.
 */
import type { Finding } from '../../core/policy/action.ts';
import type { ZoneResult } from './lookup.ts';
import type { DnsblListing } from './slots.ts';

const SEVERITY = { reject: 0, tempfail: 1, quarantine: 2, tag: 3, ignore: 4 } as const;

/** `zones[i]` is the config of `results[i]`. */
export function toListings(zones: ReadonlyArray<Pick<DnsblListing, 'score' | 'action'>>, results: readonly ZoneResult[]): DnsblListing[] {
  const out: DnsblListing[] = [];
  results.forEach((r, i) => {
    const z = zones[i];
    if (r.status === 'listed' && z) out.push({ zone: r.zone, codes: r.codes, score: z.score, action: z.action });
  });
  return out.sort((a, b) => SEVERITY[a.action] - SEVERITY[b.action]);
}

/** Listings that refuse mail rather than only mark it. */
export function isRefusal(l: DnsblListing): l is DnsblListing & { action: 'reject' | 'tempfail' } {
  return l.action === 'reject' || l.action === 'tempfail';
}

export function finding(l: DnsblListing): Finding {
  return { plugin: 'dnsbl', check: l.zone, result: 'listed', score: l.score, reason: l.codes.join(',') };
}
