/**
 * DNS list lookups (RFC 5782), no hooks: reverse the client address, ask every zone in parallel
 * within one time budget, and classify each answer. Shared by the plugin and `pochta doctor`.
 */
import { isNegative, isTimeout, dnsErrorCode, type DnsResolver } from '../../core/dns.ts';
import { reversedLabels } from '../../core/dns/reverse-name.ts';
import { inRanges, LOOPBACK_NET, type CodeRange } from './codes.ts';

export interface ZoneSpec {
  readonly zone: string;
  /** Empty: any 127.0.0.0/8 answer that is not an error code counts. */
  readonly returnCodes: readonly CodeRange[];
}

export type ZoneStatus =
  /** One of the answers is a listing code. */
  | 'listed'
  /** NXDOMAIN/NODATA, or only codes the config does not count. */
  | 'clear'
  /** The list answered with an error code (query refused, RFC 5782 §2.2 and the list's own docs). */
  | 'refused'
  | 'timeout'
  /** SERVFAIL, network errors, answers outside 127.0.0.0/8 (a resolver rewriting NXDOMAIN). */
  | 'error';

export interface ZoneResult {
  readonly zone: string;
  readonly status: ZoneStatus;
  /** The A records the list answered with. */
  readonly codes: readonly string[];
  /** For error: the DNS error code or what was wrong with the answer. */
  readonly detail?: string;
}

/** Classify one list's answer. Error codes win over listing codes: a refusing list says nothing. */
export function classifyAnswer(codes: readonly string[], spec: ZoneSpec, errorCodes: readonly CodeRange[]): { status: ZoneStatus; detail?: string } {
  if (codes.some((c) => inRanges(errorCodes, c))) return { status: 'refused' };
  if (codes.some((c) => !inRanges([LOOPBACK_NET], c))) return { status: 'error', detail: 'answer outside 127.0.0.0/8' };
  const listing = spec.returnCodes.length ? spec.returnCodes : [LOOPBACK_NET];
  return { status: codes.some((c) => inRanges(listing, c)) ? 'listed' : 'clear' };
}

/** Ask one list about one address. Never throws: every failure is a status. */
export async function queryZone(dns: DnsResolver, ip: string, spec: ZoneSpec, errorCodes: readonly CodeRange[], timeoutMs: number): Promise<ZoneResult> {
  const labels = reversedLabels(ip);
  if (!labels) return { zone: spec.zone, status: 'error', codes: [], detail: `not an IP address: ${ip}` };
  try {
    const codes = await dns.resolve4(`${labels}.${spec.zone}`, { timeoutMs });
    return { zone: spec.zone, codes, ...classifyAnswer(codes, spec, errorCodes) };
  } catch (err) {
    if (isNegative(err)) return { zone: spec.zone, status: 'clear', codes: [] };
    if (isTimeout(err)) return { zone: spec.zone, status: 'timeout', codes: [] };
    return { zone: spec.zone, status: 'error', codes: [], detail: dnsErrorCode(err) ?? (err as Error).message };
  }
}

/** Ask every list at once; all answers are in when the slowest one is, at most `budgetMs` later. */
export function queryZones(dns: DnsResolver, ip: string, specs: readonly ZoneSpec[], errorCodes: readonly CodeRange[], budgetMs: number): Promise<ZoneResult[]> {
  return Promise.all(specs.map((s) => queryZone(dns, ip, s, errorCodes, budgetMs)));
}
