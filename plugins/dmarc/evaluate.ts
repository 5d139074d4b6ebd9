/** DMARC evaluation (RFC 7489 §6.6) from the SPF and DKIM results already recorded. */
import { dmarc } from 'mailauth';
import type { MailauthResolver } from '../../core/auth-results/resolver.ts';
import { applyStrict, recordTags, type Alignment } from './alignment.ts';

export type DmarcPolicy = 'none' | 'quarantine' | 'reject';

export interface DmarcOutcome {
  readonly result: 'pass' | 'fail' | 'none' | 'temperror' | 'permerror';
  /** The RFC5322.From domain (header.from). */
  readonly fromDomain: string;
  /** The policy that applies to this From domain (sp= for a subdomain under an org record). */
  readonly policy?: DmarcPolicy;
  readonly p?: string;
  readonly sp?: string;
  /** pct=, 0-100 (default 100). */
  readonly pct?: number;
  readonly alignment?: Alignment;
  readonly comment?: string;
}

export interface DmarcInput {
  /** The RFC5322.From addresses; DMARC needs exactly one (RFC 7489 §6.6.1). */
  readonly headerFrom: readonly string[];
  /** The SPF-authenticated domain, when SPF passed. */
  readonly spfPassDomain?: string;
  /** d= of every passing DKIM signature. */
  readonly dkimPassDomains: readonly string[];
  readonly resolver: MailauthResolver;
}

const asPolicy = (p: string | undefined): DmarcPolicy | undefined => {
  const v = p?.toLowerCase().trim();
  return v === 'none' || v === 'quarantine' || v === 'reject' ? v : undefined;
};

export async function evaluateDmarc(input: DmarcInput): Promise<DmarcOutcome> {
  const domains = [...new Set(input.headerFrom.map((a) => a.slice(a.lastIndexOf('@') + 1).toLowerCase()))];
  if (domains.length !== 1 || !domains[0]) {
    return { result: 'permerror', fromDomain: domains.join(','), comment: input.headerFrom.length ? 'From has several domains' : 'no From address' };
  }
  const fromDomain = domains[0];
  const res = await dmarc({
    headerFrom: `x@${fromDomain}`,
    spfDomains: input.spfPassDomain ? [input.spfPassDomain] : [],
    dkimDomains: input.dkimPassDomains.map((domain) => ({ domain })),
    resolver: input.resolver,
  });
  if (!res) return { result: 'permerror', fromDomain, comment: 'From could not be evaluated' };
  const r = res.status.result;
  if (r === 'temperror' || r === 'temperr') return { result: 'temperror', fromDomain, comment: 'DNS failure fetching the DMARC record' };
  if (r === 'none' || !res.rr) return { result: 'none', fromDomain };
  const tags = recordTags(res.rr);
  const relaxed: Alignment = {
    ...(res.alignment.spf.result ? { spf: res.alignment.spf.result } : {}),
    ...(res.alignment.dkim.result ? { dkim: res.alignment.dkim.result } : {}),
  };
  const alignment = applyStrict(fromDomain, tags, relaxed, { spf: input.spfPassDomain ? [input.spfPassDomain] : [], dkim: input.dkimPassDomains });
  // §6.6.3: an invalid or missing p= is treated as none (when the record is otherwise usable).
  const policy = asPolicy(res.policy) ?? 'none';
  const pct = typeof res.pct === 'number' && res.pct >= 0 && res.pct <= 100 && tags.has('pct') ? res.pct : 100;
  return {
    result: alignment.spf || alignment.dkim ? 'pass' : 'fail',
    fromDomain,
    policy,
    ...(res.p ? { p: res.p.toLowerCase() } : {}),
    ...(res.sp ? { sp: res.sp.toLowerCase() } : {}),
    pct,
    alignment,
  };
}
