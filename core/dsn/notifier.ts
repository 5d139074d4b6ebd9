import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Clock } from '../clock.ts';
import type { Logger } from '../log.ts';
import { composeMessage, headerPrefix, removedHeaders } from '../queue/compose.ts';
import type { SpoolEnvelope } from '../queue/envelope.ts';
import type { DeliveryNotifier, NotifyRecipient, NotifyRequest } from '../queue/notify-port.ts';
import { readHeaderSection } from '../smtp/headers.ts';
import { SubmitError, type SubmitRequest, type SubmitResult } from '../submit/types.ts';
import type { DsnConfig } from './config.ts';
import { dsnMessage } from './message.ts';
import type { NoticeKind } from './text.ts';

export interface DsnNotifierDeps {
  /** The internal submission path (PochtaServer.submit). */
  submit(req: SubmitRequest): Promise<SubmitResult>;
  hostname(): string;
  config(): DsnConfig;
  log: Logger;
  clock: Clock;
}

const NOTIFY_WORD: Readonly<Record<NoticeKind, string>> = { failure: 'FAILURE', delay: 'DELAY', success: 'SUCCESS' };

/**
 * RFC 3461 §4.1: NOTIFY=NEVER asks for nothing; a list asks for those kinds only; no NOTIFY at
 * all means failures and delays are reported, successes not.
 */
export function wants(notify: readonly string[] | undefined, kind: NoticeKind): boolean {
  if (!notify?.length) return kind !== 'success';
  const upper = notify.map((n) => n.toUpperCase());
  return !upper.includes('NEVER') && upper.includes(NOTIFY_WORD[kind]);
}

function dsnOf(env: SpoolEnvelope, address: string): { notify?: readonly string[]; orcpt?: string } | undefined {
  const a = address.toLowerCase();
  return env.recipients.find((r) => r.address.toLowerCase() === a)?.dsn;
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * The DSN writer behind the scheduler's DeliveryNotifier port: decides whether a notice is due
 * (NOTIFY, null sender), writes the RFC 3464 report and submits it from <> through the internal
 * submission path, so it is routed, signed and spooled like any other mail.
 *
 * Never a notice about a notice (RFC 3464 §2, RFC 5321 §6.1): a message from the null sender
 * gets no delay or success report, and its failure goes to the configured postmaster, or is
 * logged and dropped. A notice refused for good (5xx) is handled the same way, since retrying
 * would never help; a temporary refusal rejects, and the scheduler tries again later.
 */
export class DsnNotifier implements DeliveryNotifier {
  readonly #d: DsnNotifierDeps;

  constructor(deps: DsnNotifierDeps) {
    this.#d = deps;
  }

  async send(req: NotifyRequest): Promise<void> {
    const env = req.envelope;
    const log = this.#d.log.child({ queueId: env.id });
    const recipients = req.recipients.filter((r) => wants(dsnOf(env, r.address)?.notify, req.kind)).map((r) => {
      // ORCPT as the client gave it at RCPT, when the scheduler did not pass it on.
      const orcpt = r.orcpt ?? dsnOf(env, r.address)?.orcpt;
      return orcpt ? { ...r, orcpt } : r;
    });
    if (!recipients.length) {
      log.debug({ event: 'dsn.not_requested', kind: req.kind }, 'no recipient asked for this notice (NOTIFY)');
      return;
    }
    const sender = env.mailFrom.address;
    if (sender === '') return this.#doubleBounce(req, recipients, log, 'the failed message was itself a notice');
    try {
      await this.#submit(req, recipients, sender);
    } catch (err) {
      if (err instanceof SubmitError && !err.temporary) return this.#doubleBounce(req, recipients, log, `the notice was refused: ${err.message}`);
      throw err;
    }
  }

  async #doubleBounce(req: NotifyRequest, recipients: readonly NotifyRecipient[], log: Logger, why: string): Promise<void> {
    const postmaster = this.#d.config().postmaster;
    const addresses = recipients.map((r) => r.address);
    // Only failures are worth a postmaster's attention; and a notice to the postmaster that
    // itself fails is never reported again (that is how loops start).
    if (req.kind !== 'failure' || !postmaster || addresses.some((a) => same(a, postmaster))) {
      log.warn({ event: 'dsn.dropped', kind: req.kind, rcpt: addresses, why }, 'delivery notice not sent (never a notice to the null sender)');
      return;
    }
    try {
      await this.#submit(req, recipients, postmaster);
      log.warn({ event: 'dsn.to_postmaster', rcpt: addresses, postmaster, why }, 'failure notice sent to the postmaster');
    } catch (err) {
      if (err instanceof SubmitError && !err.temporary) {
        log.error({ event: 'dsn.dropped', kind: req.kind, rcpt: addresses, why: err.message }, 'postmaster notice refused; dropped');
        return;
      }
      throw err;
    }
  }

  async #submit(req: NotifyRequest, recipients: readonly NotifyRecipient[], to: string): Promise<void> {
    const d = this.#d;
    const env = req.envelope;
    const cfg = d.config();
    const ret = env.mailFrom.dsn?.ret;
    // RFC 3461 §4.3: RET applies to failure notices; delays and successes carry the headers only.
    const full = req.kind === 'failure' && ret !== 'HDRS' && env.size <= cfg.maxFullBytes;
    const present = await access(req.bodyPath, constants.R_OK).then(() => true, () => false);
    if (!present) d.log.warn({ event: 'dsn.original_missing', queueId: env.id }, 'the original is gone; the notice goes without it');
    const headers = present ? await readHeaderSection(req.bodyPath).catch(() => []) : [];
    const find = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value;
    const subject = find('subject');
    const messageId = find('message-id');
    const body = dsnMessage({
      kind: req.kind,
      hostname: d.hostname(),
      to,
      queueId: env.id,
      report: { reportingMta: d.hostname(), ...(env.mailFrom.dsn?.envid ? { envid: env.mailFrom.dsn.envid } : {}), arrivalDate: env.receivedAt, recipients },
      original: {
        ...(present ? { stream: () => composeMessage(headerPrefix(env.headerEdits), { kind: 'file', path: req.bodyPath }, removedHeaders(env.headerEdits)) } : {}),
        ...(subject !== undefined ? { subject } : {}),
        ...(messageId !== undefined ? { messageId } : {}),
        eightBit: env.mailFrom.body === '8bitmime',
        utf8Headers: env.mailFrom.smtpUtf8,
      },
      full,
      now: d.clock.now(),
    });
    const utf8 = /[^\x00-\x7f]/.test(to + recipients.map((r) => r.address).join(''));
    const r = await d.submit({
      mailFrom: '',
      // RFC 3461 §6.2 (and common sense): no notice about this notice.
      recipients: [{ address: to, notify: ['NEVER'] }],
      body,
      eightBit: env.mailFrom.body === '8bitmime' || env.mailFrom.smtpUtf8 || utf8,
      smtpUtf8: env.mailFrom.smtpUtf8 || utf8,
    });
    d.log.info({ event: 'dsn.sent', kind: req.kind, queueId: env.id, dsnQueueId: r.queueId, to, rcpt: recipients.map((x) => x.address), full }, 'delivery status notification queued');
  }
}
