import type { NotifyRecipient } from './notify-port.ts';
import type { SpoolEnvelope, SpoolRecipient } from './envelope.ts';

/** Pure decisions of the scheduler: when a recipient is due, how long to wait, which notices are owed. */

export type NoticeKind = 'failure' | 'delay' | 'success';

/** Doubling backoff from `base`, capped at `max` (5m, 10m, 20m, … 4h for remote delivery by default). */
export function backoff(attempts: number, base: number, max: number): number {
  return Math.min(max, base * 2 ** Math.min(40, Math.max(0, attempts - 1)));
}

/**
 * RFC 3461 §4.1: NOTIFY=NEVER asks for nothing; otherwise the listed kinds. Without NOTIFY we send
 * failure and delay notices (the usual default, §6.1). Nothing ever goes to the null sender (RFC 5321
 * §4.5.5: no notice about a notice): for its messages only a failure is handed over, which the DSN
 * writer gives to the configured postmaster or drops (core/dsn/notifier.ts).
 */
export function wantsNotice(env: SpoolEnvelope, r: SpoolRecipient, kind: NoticeKind): boolean {
  if (!env.mailFrom.address && kind !== 'failure') return false;
  const notify = r.dsn?.notify?.map((n) => n.toUpperCase());
  if (!notify?.length) return kind !== 'success';
  if (notify.includes('NEVER')) return false;
  return notify.includes(kind === 'failure' ? 'FAILURE' : kind === 'delay' ? 'DELAY' : 'SUCCESS');
}

export interface DueContext {
  now: number;
  /** Local recipients last tried before this time are due at once (a restart often fixed the cause). */
  startedAt: number;
  /** An administrator asked for a retry: recipients last tried before this time are due. */
  forcedAt: number;
}

export function isDue(r: SpoolRecipient, c: DueContext): boolean {
  if (r.state !== 'pending') return false;
  if ((r.nextAttemptAt ?? 0) <= c.now) return true;
  const last = r.lastAttemptAt ?? 0;
  if (last < c.forcedAt) return true;
  return r.target.kind === 'local' && last < c.startedAt;
}

/** The notice each recipient is owed now, if any. */
export function owedNotice(env: SpoolEnvelope, r: SpoolRecipient, now: number, delayWarningMs: number): NoticeKind | undefined {
  if (r.state === 'failed') return !r.notifiedAt && wantsNotice(env, r, 'failure') ? 'failure' : undefined;
  if (r.state === 'delivered') {
    // Relayed to a hop that takes NOTIFY on: the success notice is its job (RFC 3461 §6.2).
    if (r.target.kind === 'remote' && r.nextHopDsn) return undefined;
    return !r.notifiedAt && wantsNotice(env, r, 'success') ? 'success' : undefined;
  }
  if (r.attempts > 0 && !r.delayNotifiedAt && now - env.receivedAt >= delayWarningMs && wantsNotice(env, r, 'delay')) return 'delay';
  return undefined;
}

/** What the DSN writer gets about one recipient (RFC 3464 §2.3 per-recipient fields). */
export function noticeRecipient(env: SpoolEnvelope, r: SpoolRecipient, kind: NoticeKind, maxAgeMs: number): NotifyRecipient {
  const action = kind === 'failure' ? 'failed' : kind === 'delay' ? 'delayed' : r.target.kind === 'remote' ? 'relayed' : 'delivered';
  return {
    address: r.address,
    ...(r.dsn?.orcpt ? { orcpt: r.dsn.orcpt } : {}),
    action,
    status: r.status ?? (kind === 'failure' ? '5.0.0' : kind === 'delay' ? '4.0.0' : '2.0.0'),
    ...(r.diagnostic ?? r.lastError ? { diagnostic: r.diagnostic ?? r.lastError } : {}),
    ...(r.remoteMta ? { remoteMta: r.remoteMta } : {}),
    ...(r.lastAttemptAt ? { lastAttemptAt: r.lastAttemptAt } : {}),
    ...(kind === 'delay' ? { willRetryUntil: env.receivedAt + maxAgeMs } : {}),
  };
}

/** What `pochta queue` shows for a recipient. */
export type DisplayState = 'pending' | 'in-flight' | 'deferred' | 'delivered' | 'bounced';

export function displayState(r: SpoolRecipient, now: number, inFlight: boolean): DisplayState {
  if (r.state === 'delivered') return 'delivered';
  if (r.state === 'failed') return 'bounced';
  if (inFlight && (r.nextAttemptAt ?? 0) <= now) return 'in-flight';
  return r.attempts > 0 && (r.nextAttemptAt ?? 0) > now ? 'deferred' : 'pending';
}

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}
