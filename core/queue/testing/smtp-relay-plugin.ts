import { appendFile } from 'node:fs/promises';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { z } from 'zod';
import { definePlugin } from '../../plugin.ts';
import type { Reply } from '../../verdict.ts';
import { composeMessage } from '../compose.ts';
import { REMOTE_DELIVERY, type RemoteDelivery, type RemoteJob, type RemoteOutcome, type RemoteResult } from '../remote.ts';

/**
 * A small REMOTE_DELIVERY provider for the queue's tests: every job goes over real SMTP to one
 * fixed next hop (no MX lookup, no TLS), one connection per job. It exercises the scheduler's
 * contract end to end; the real engine is the `outbound` plugin.
 */
const Config = z.strictObject({
  host: z.string().default('127.0.0.1').describe('Next hop address.'),
  port: z.number().int().min(1).max(65535).describe('Next hop port.'),
  events: z.string().optional().describe('Append every outbound.* hook event to this file as JSON lines.'),
});

function replyOf(text: string | undefined, code: number | undefined): Reply | undefined {
  if (!code) return undefined;
  const m = /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})? ?(.*)$/s.exec(text ?? '');
  return { code, ...(m?.[1] ? { enhanced: m[1] } : {}), text: (m?.[2] ?? text ?? '').trim() };
}

function outcomeOf(err: { response?: string; responseCode?: number; message: string }, mx: string): RemoteOutcome {
  const reply = replyOf(err.response, err.responseCode);
  const reason = err.response ?? err.message;
  return reply && reply.code >= 500 ? { kind: 'permfail', reply, mx, reason } : { kind: 'tempfail', ...(reply ? { reply } : {}), mx, reason };
}

export function smtpRelay(host: string, port: number): RemoteDelivery {
  const mx = `${host}:${port}`;
  return {
    async deliver(job: RemoteJob, signal: AbortSignal): Promise<readonly RemoteResult[]> {
      const all = (o: RemoteOutcome) => job.recipients.map((r) => ({ address: r.address, outcome: o }));
      const conn = new SMTPConnection({ host, port, name: 'relay.test', ignoreTLS: true, connectionTimeout: 5000, greetingTimeout: 5000, socketTimeout: 10_000 });
      const abort = () => conn.close();
      signal.addEventListener('abort', abort, { once: true });
      try {
        await new Promise<void>((resolve, reject) => {
          conn.once('error', reject);
          conn.connect(() => resolve());
        });
        const raw = composeMessage(job.headerPrefix, job.body, job.removeHeaders);
        const notify = job.recipients[0]?.dsn?.notify;
        const info = await new Promise<{ accepted: string[]; rejectedErrors?: Array<{ recipient?: string; response?: string; responseCode?: number; message: string }>; ehlo?: string[]; response: string }>((resolve, reject) => {
          conn.send({ from: job.mailFrom.address, to: job.recipients.map((r) => r.address), ...(notify ? { dsn: { notify: [...notify] } } : {}) }, raw, (err, i) => (err ? reject(err) : resolve(i)));
        });
        const dsn = Boolean(info.ehlo?.includes('DSN'));
        const accepted = new Set(info.accepted.map((a) => a.toLowerCase()));
        const rejected = new Map((info.rejectedErrors ?? []).map((e) => [String(e.recipient).toLowerCase(), e]));
        return job.recipients.map((r) => {
          const a = r.address.toLowerCase();
          const rej = rejected.get(a);
          if (rej) return { address: r.address, outcome: outcomeOf(rej, mx) };
          if (accepted.has(a)) return { address: r.address, outcome: { kind: 'delivered', mx, dsn: dsn && Boolean(r.dsn?.notify), ...(replyOf(info.response, 250) ? { reply: replyOf(info.response, 250)! } : {}) } };
          return { address: r.address, outcome: { kind: 'tempfail', mx, reason: 'no answer for this recipient' } };
        });
      } catch (err) {
        const e = err as { response?: string; responseCode?: number; message: string; rejectedErrors?: Array<{ recipient?: string; response?: string; responseCode?: number; message: string }> };
        if (e.rejectedErrors?.length) {
          const rejected = new Map(e.rejectedErrors.map((x) => [String(x.recipient).toLowerCase(), x]));
          return job.recipients.map((r) => ({ address: r.address, outcome: outcomeOf(rejected.get(r.address.toLowerCase()) ?? e, mx) }));
        }
        return all(outcomeOf(e, mx));
      } finally {
        signal.removeEventListener('abort', abort);
        conn.quit();
        conn.close();
      }
    },
  };
}

export default definePlugin({
  name: 'test-relay',
  description: 'Test-only remote delivery: every recipient over SMTP to one fixed host.',
  config: Config,
  register(hooks, ctx) {
    ctx.services.provide(REMOTE_DELIVERY, smtpRelay(ctx.config.host, ctx.config.port));
    const file = ctx.config.events;
    if (!file) return;
    for (const name of ['delivered', 'deferred', 'bounced'] as const) {
      hooks.outbound[name].tap(async (e) => {
        await appendFile(file, JSON.stringify({ hook: name, ...e }) + '\n');
      });
    }
  },
});
