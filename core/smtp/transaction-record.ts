import { targetKey, type SpoolEnvelope, type SpoolRecipient } from '../queue/envelope.ts';
import type { InlineDelivered } from '../queue/types.ts';
import type { Reply } from '../verdict.ts';
import { replyText } from './codes.ts';
import type { Transaction } from './session.ts';

/** The spool envelope of a finished transaction: one entry per delivery target, deduplicated. */
export function toEnvelope(tx: Transaction, size: number, receivedAt: number, quarantine: string | undefined): SpoolEnvelope {
  const seen = new Set<string>();
  const recipients: SpoolRecipient[] = [];
  for (const r of tx.rcptTo) {
    for (const t of r.targets) {
      const key = targetKey(t);
      // One delivery per target, however many addresses lead to it (aliases, duplicates).
      if (seen.has(key)) continue;
      seen.add(key);
      recipients.push({ address: r.address, ...(r.dsn ? { dsn: r.dsn } : {}), target: t, state: 'pending', attempts: 0 });
    }
  }
  const s = tx.session;
  return {
    v: 1,
    id: tx.id,
    receivedAt,
    size,
    mailFrom: tx.mailFrom,
    client: { address: s.remoteAddress, ...(s.helo ? { helo: s.helo.host } : {}), ...(s.user ? { user: s.user } : {}), listener: s.listener.name, secure: s.secure },
    headerEdits: [...tx.headerEdits],
    ...(quarantine ? { quarantine } : {}),
    recipients,
  };
}

/**
 * One line per transaction: envelope, outcome, verdict timings, queue id, and the recipients
 * delivered before the reply (inline delivery). Never a password.
 */
export function logTransaction(tx: Transaction, reply: Reply, delivered?: InlineDelivered[]): void {
  tx.info({
    event: 'smtp.transaction',
    from: tx.mailFrom.address,
    rcpt: tx.rcptTo.map((r) => r.address),
    size: tx.message?.size,
    outcome: tx.outcome,
    reply: `${reply.code} ${replyText(reply)}`,
    user: tx.session.user,
    evidence: tx.evidence.length ? tx.evidence : undefined,
    timings: tx.trace.map((t) => `${t.hook}:${t.plugin}:${t.outcome}:${t.ms}ms`),
    delivered,
  }, 'transaction');
}
