/**
 * One SPF check (RFC 7208) through mailauth: the MAIL FROM identity, or the HELO identity when
 * the reverse-path is null (§2.4: then "postmaster@<helo>" is checked).
 */
import { spf } from 'mailauth';
import type { MailauthResolver } from '../../core/auth-results/resolver.ts';

export const SPF_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'] as const;
export type SpfResult = (typeof SPF_RESULTS)[number];

export interface SpfOutcome {
  readonly result: SpfResult;
  /** Which identity was checked (RFC 7208 §2.3, §2.4). */
  readonly identity: 'mailfrom' | 'helo';
  /** The domain whose policy decided. */
  readonly domain: string;
  /** The address checked: the MAIL FROM address, or postmaster@<helo> for the null sender. */
  readonly sender: string;
  readonly clientIp: string;
  readonly helo?: string;
  /** mailauth's explanation, for logs and the A-R comment. */
  readonly comment?: string;
}

export interface SpfInput {
  readonly ip: string;
  readonly helo?: string;
  /** The MAIL FROM address; '' for the null reverse-path. */
  readonly sender: string;
  /** Our host name, named in the explanation. */
  readonly hostname: string;
  readonly resolver: MailauthResolver;
}

function asResult(r: string | undefined): SpfResult {
  // mailauth spells temperror both ways.
  if (r === 'temperr') return 'temperror';
  return (SPF_RESULTS as readonly string[]).includes(r ?? '') ? (r as SpfResult) : 'temperror';
}

export async function checkSpf(input: SpfInput): Promise<SpfOutcome> {
  const identity = input.sender ? 'mailfrom' : 'helo';
  const res = await spf({
    sender: input.sender,
    ip: input.ip,
    ...(input.helo ? { helo: input.helo } : {}),
    mta: input.hostname,
    resolver: input.resolver,
  });
  const sender = res['envelope-from'] ?? (input.sender || `postmaster@${input.helo ?? ''}`);
  return {
    result: asResult(res.status.result),
    identity,
    domain: res.domain,
    sender,
    clientIp: res['client-ip'] ?? input.ip,
    ...(input.helo ? { helo: input.helo } : {}),
    ...(res.status.comment ? { comment: res.status.comment } : {}),
  };
}
