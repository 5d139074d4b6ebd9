import type { FileHandle } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import type { RootConfig } from '../config/schema.ts';
import type { Hooks } from '../hooks.ts';
import type { Metrics } from '../metrics.ts';
import type { MessageBody } from '../queue/body.ts';
import type { QueueRunner } from '../queue/runner.ts';
import type { Spool } from '../queue/spool.ts';
import type { Reply } from '../verdict.ts';
import { quarantineFromEvidence, tagHeaders, TAG_HEADER } from '../policy/action.ts';
import { REPLY, withText } from './codes.ts';
import { smtpError } from './errors.ts';
import { Spooled, type Transaction } from './session.ts';
import { logTransaction, toEnvelope } from './transaction-record.ts';

export interface AcceptDeps {
  readonly config: RootConfig;
  readonly hooks: Hooks;
  readonly spool: Spool;
  readonly queue: QueueRunner;
  readonly metrics: Metrics;
  readonly clock: Clock;
}

/** A message body that arrived completely: in memory, or in its (still open) spool file. */
export interface ReceivedBody {
  readonly body: MessageBody;
  readonly size: number;
  /** The open spool file when the body spilled to disk; it is fsynced and closed at commit. */
  readonly handle?: FileHandle;
}

export interface Accepted {
  readonly reply: Reply;
  /** True when a spool entry was committed (the caller must then not remove the body file). */
  readonly committed: boolean;
}

/** Log, count and throw the refusal (an smtp-server style error carrying the reply). */
export function refuse(tx: Transaction, metrics: Metrics, reply: Reply, why: string): never {
  tx.outcome = why;
  logTransaction(tx, reply);
  metrics.inc('smtp_messages_total', { result: why });
  throw smtpError(reply);
}

/**
 * Everything after the body is received, shared by SMTP DATA and the internal submission path
 * (core/submit) so that mail the server writes itself is checked, signed and made durable
 * exactly like user mail: smtp.message → tag headers → smtp.queue → inline delivery or spool
 * commit (fsync of body, envelope and directory) → queue. Throws (see `refuse`) when refused.
 */
export async function acceptMessage(tx: Transaction, received: ReceivedBody, d: AcceptDeps): Promise<Accepted> {
  const { body, size } = received;
  const s = tx.session;
  tx.message = new Spooled(body, size);
  const mv = (await d.hooks.smtp.message.call(tx, tx.message, tx.callTrace())) ?? quarantineFromEvidence(tx.evidence) ?? { kind: 'accept' as const };
  if (mv.kind === 'reject' || mv.kind === 'tempfail') refuse(tx, d.metrics, mv.reply, `message_${mv.kind}`);
  if (mv.kind === 'discard') {
    tx.outcome = 'discarded';
    tx.log.warn({ event: 'smtp.message.discarded', reason: mv.reason }, 'message accepted and discarded');
    logTransaction(tx, REPLY.ok);
    d.metrics.inc('smtp_messages_total', { result: 'discarded' });
    return { reply: withText(REPLY.ok, `Ok: queued as ${tx.id}`), committed: false };
  }
  for (const v of tagHeaders(tx.evidence)) tx.addHeader(TAG_HEADER, v);
  const qv = await d.hooks.smtp.queue.call(tx, { verdict: mv }, tx.callTrace());
  if (qv && qv.kind !== 'accept') refuse(tx, d.metrics, qv.reply, `queue_${qv.kind}`);
  if (qv?.kind === 'accept') {
    tx.outcome = 'queued_by_plugin';
    logTransaction(tx, qv.reply ?? REPLY.ok);
    d.metrics.inc('smtp_messages_total', { result: 'queued_by_plugin' });
    return { reply: qv.reply ?? withText(REPLY.ok, `Ok: queued as ${tx.id}`), committed: false };
  }
  const env = toEnvelope(tx, size, d.clock.now(), mv.kind === 'quarantine' ? mv.reason : undefined);
  const delivered = d.config.queue.inlineDelivery ? await d.queue.deliverInline(env, body) : undefined;
  if (delivered) {
    tx.outcome = mv.kind === 'quarantine' ? 'quarantined' : 'delivered';
    s.transactionCount++;
    const reply = withText(REPLY.ok, `Ok: delivered as ${tx.id}`);
    logTransaction(tx, reply, delivered);
    d.metrics.inc('smtp_messages_total', { result: tx.outcome });
    return { reply, committed: false };
  }
  let fh = received.handle;
  if (!fh) {
    // Small message held in memory: it goes to disk now, and is fsynced there before the 250.
    fh = await d.spool.createBody(tx.id);
    await fh.write(body.kind === 'memory' ? body.bytes : Buffer.alloc(0));
  }
  await d.spool.commit(env, fh);
  tx.outcome = mv.kind === 'quarantine' ? 'quarantined' : 'queued';
  s.transactionCount++;
  const reply = withText(REPLY.ok, `Ok: queued as ${tx.id}`);
  logTransaction(tx, reply);
  d.metrics.inc('smtp_messages_total', { result: tx.outcome });
  d.queue.enqueue(tx.id, env);
  return { reply, committed: true };
}
