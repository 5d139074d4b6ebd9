import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../clock.ts';
import type { RootConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { MessageBody } from '../queue/body.ts';
import type { QueueIdFactory } from '../queue/ids.ts';
import { REMOTE_DELIVERY } from '../queue/remote.ts';
import type { QueueRunner } from '../queue/runner.ts';
import type { Spool } from '../queue/spool.ts';
import { SpillSink } from '../queue/spill-sink.ts';
import type { Runtime } from '../runtime.ts';
import { acceptMessage } from '../smtp/accept-message.ts';
import { REPLY } from '../smtp/codes.ts';
import { rfc5322Date } from '../smtp/received.ts';
import { Transaction } from '../smtp/session.ts';
import type { MailFrom, Recipient } from '../smtp/types.ts';
import type { DeliveryTarget, Reply } from '../verdict.ts';
import { internalSession } from './internal-session.ts';
import { SubmitError, type SubmitRecipient, type SubmitRequest, type SubmitResult } from './types.ts';

export interface SubmitDeps {
  config(): RootConfig;
  runtime(): Runtime;
  spool: Spool;
  queue: QueueRunner;
  ids: QueueIdFactory;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
}

/** The error smtpError() makes carries the reply only as text: read the code and enhanced code back. */
function replyOf(err: unknown): Reply | undefined {
  const e = err as { responseCode?: number; message?: string };
  if (typeof e.responseCode !== 'number') return undefined;
  const m = /^(\d\.\d{1,3}\.\d{1,3}) (.*)$/s.exec(e.message ?? '');
  return m ? { code: e.responseCode, enhanced: m[1], text: m[2] } : { code: e.responseCode, text: e.message ?? '' };
}

function toRecipient(r: string | SubmitRecipient): Recipient {
  if (typeof r === 'string') return { address: r, args: {} };
  const dsn = r.notify || r.orcpt ? { ...(r.notify ? { notify: r.notify } : {}), ...(r.orcpt ? { orcpt: r.orcpt } : {}) } : undefined;
  return { address: r.address, args: {}, ...(dsn ? { dsn } : {}) };
}

function toBytes(body: SubmitRequest['body']): Readable {
  if (typeof body === 'string' || Buffer.isBuffer(body)) return Readable.from([Buffer.from(body)], { objectMode: false });
  return body instanceof Readable ? body : Readable.from(body, { objectMode: false });
}

/**
 * The internal submission path: mail the server writes itself (DSNs, reports) goes through the
 * same hooks and the same durable spool as user mail (design.md, "Bounces and mail the server
 * writes itself ... signed, routed and limited the same way"). A synthetic session, authenticated
 * and allowed to relay, runs smtp.mailFrom, smtp.rcptTo (aliases and local domains route the
 * recipients), smtp.data, smtp.message (signing) and smtp.queue; the promise resolves only once
 * the message is fsynced (in the spool, or in every local Maildir when delivered inline).
 * The body is streamed to the spool file: a large one is never held whole in memory.
 */
export async function submitMessage(d: SubmitDeps, req: SubmitRequest): Promise<SubmitResult> {
  const cfg = d.config();
  const runtime = d.runtime();
  runtime.retain();
  const now = d.clock.now();
  const id = d.ids.next(now);
  const log = d.log.child({ session: `internal-${id}`, remote: 'internal' });
  const s = internalSession(`internal-${id}`, req.user ?? `MAILER-DAEMON@${cfg.hostname}`, cfg.hostname, log, now);
  const hooks = runtime.hooks;
  const rejected: Array<{ address: string; reply: Reply }> = [];
  const source = toBytes(req.body);
  let sink: SpillSink | undefined;
  let committed = false;
  try {
    const mailFrom: MailFrom = {
      address: req.mailFrom,
      args: {},
      smtpUtf8: Boolean(req.smtpUtf8),
      body: req.eightBit ? '8bitmime' : '7bit',
      ...(req.dsn ? { dsn: req.dsn } : {}),
      requireTls: false,
    };
    const tx = new Transaction(id, s, mailFrom);
    const fail = (reply: Reply, stage: string): never => {
      tx.log.warn({ event: 'submit.refused', stage, reply }, 'internal submission refused');
      d.metrics.inc('submit_total', { result: 'refused' });
      throw new SubmitError(reply, rejected);
    };
    const mv = await hooks.smtp.mailFrom.call(tx, mailFrom, tx.callTrace());
    if (mv && mv.kind !== 'accept') fail(mv.reply, 'mail');
    for (const r of req.recipients.map(toRecipient)) {
      const v = await hooks.smtp.rcptTo.call(tx, r, tx.callTrace());
      if (v && v.kind !== 'accept') {
        rejected.push({ address: r.address, reply: v.reply });
        continue;
      }
      const targets: readonly DeliveryTarget[] = v?.targets ?? [{ kind: 'remote', address: r.address }];
      if (targets.some((t) => t.kind === 'remote') && !runtime.services.find(REMOTE_DELIVERY)) {
        rejected.push({ address: r.address, reply: REPLY.remoteDeliveryUnavailable });
        continue;
      }
      tx.rcptTo.push({ ...r, targets });
    }
    if (!tx.rcptTo.length) fail(rejected[0]?.reply ?? REPLY.tempLocal, 'rcpt');
    const dv = await hooks.smtp.data.call(tx, {}, tx.callTrace());
    if (dv && dv.kind !== 'accept') fail(dv.reply, 'data');

    // RFC 5321 §4.4: a trace field for mail that starts here ("by" only: there is no client).
    const head = Buffer.from(`Received: by ${cfg.hostname} id ${id};\r\n\t${rfc5322Date(new Date(now))}\r\n`, 'utf8');
    const spool = d.spool;
    const out = new SpillSink(cfg.queue.memoryBodyBytes, () => spool.createBody(id));
    sink = out;
    out.write(head);
    let size = head.length;
    const count = new Transform({ transform(chunk: Buffer, _enc, cb) { size += chunk.length; cb(null, chunk); } });
    await pipeline(source, count, out);
    const body: MessageBody = out.spilled ? { kind: 'file', path: spool.bodyPath(id) } : { kind: 'memory', bytes: out.bytes() };
    try {
      const done = await acceptMessage(tx, { body, size, ...(out.handle ? { handle: out.handle } : {}) }, {
        config: cfg, hooks, spool, queue: d.queue, metrics: d.metrics, clock: d.clock,
      });
      committed = done.committed;
    } catch (err) {
      const reply = replyOf(err);
      if (reply) fail(reply, 'message');
      throw err;
    }
    d.metrics.inc('submit_total', { result: 'accepted' });
    return { queueId: id, accepted: tx.rcptTo.map((r) => r.address), rejected };
  } finally {
    source.destroy();
    if (!committed && sink?.spilled) await d.spool.abandon(id, sink.handle);
    runtime.release();
  }
}
