/** ARC chain validation (RFC 8617 §5.2) of the sets mailauth parsed during DKIM verification. */
import { arc } from 'mailauth';
import type { MailauthResolver } from '../../core/auth-results/resolver.ts';

export interface ArcOutcome {
  /** The chain validation status (RFC 8617 §4.4): none, pass or fail. */
  readonly result: 'none' | 'pass' | 'fail';
  /** The highest instance seen (0 without a chain). */
  readonly instance: number;
  readonly comment?: string;
  /** Whether a set may still be added (a chain that already ended in cv=fail may not). */
  readonly sealable: boolean;
}

export async function verifyArc(arcData: unknown, opts: { resolver: MailauthResolver; minBitLength: number }): Promise<ArcOutcome> {
  if (!arcData) return { result: 'none', instance: 0, sealable: true };
  const res = await arc(arcData as Parameters<typeof arc>[0], { resolver: opts.resolver, minBitLength: opts.minBitLength });
  const r = res.status.result;
  const result = r === 'pass' ? 'pass' : r === 'none' ? 'none' : 'fail';
  return {
    result,
    instance: typeof res.i === 'number' ? res.i : 0,
    ...(res.status.comment ? { comment: res.status.comment } : {}),
    sealable: result !== 'fail' || Boolean(res.status.shouldSeal),
  };
}
