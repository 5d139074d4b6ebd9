import { defineService } from '../services.ts';
import type { MailFrom } from '../smtp/types.ts';
import type { Reply } from '../verdict.ts';
import type { MessageBody } from './body.ts';
import type { HeaderRemoval } from './compose.ts';

/**
 * Remote delivery: the contract between the core scheduler (core/queue, which owns the durable
 * per-recipient state, retries, backoff and bounces) and the delivery engine (plugin `outbound`,
 * which owns MX lookup, TLS policy, connections and per-destination concurrency).
 *
 * The scheduler hands over one message with all its remote recipients that are due; the engine
 * makes one attempt for each of them and says, per recipient, what happened. It never retries on its own
 * beyond the MX hosts of this attempt, and never writes the spool. While nothing provides this
 * service, recipients that need it get 451 4.3.5 at RCPT time instead of being queued to nowhere.
 */
export interface RemoteRecipient {
  /** The address to deliver to (RCPT TO at the next hop). */
  readonly address: string;
  /** RFC 3461 NOTIFY and ORCPT, passed on to a next hop that offers DSN. */
  readonly dsn?: { readonly notify?: readonly string[]; readonly orcpt?: string };
}

export interface RemoteJob {
  readonly queueId: string;
  /** The envelope sender ('' for the null sender) and its parameters (SMTPUTF8, BODY, RET/ENVID, REQUIRETLS). */
  readonly mailFrom: MailFrom;
  /** All due remote recipients of this message, of any domains: the engine groups them by next hop (one transaction each). */
  readonly recipients: readonly RemoteRecipient[];
  /** Header lines (CRLF-terminated) to put before the stored bytes: the transaction's header edits. */
  readonly headerPrefix: Buffer;
  /** Top-level header fields to drop from the stored bytes while sending (see HeaderRemoval; composeMessage applies them). */
  readonly removeHeaders: readonly HeaderRemoval[];
  readonly body: MessageBody;
  /** Size of the stored bytes, without headerPrefix. */
  readonly size: number;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** When the message was received (epoch ms). */
  readonly receivedAt: number;
}

export type RemoteOutcome =
  | {
    readonly kind: 'delivered'; readonly reply?: Reply; readonly mx?: string; readonly detail?: string;
    /** The next hop offered DSN and got NOTIFY/ORCPT: a success notice is then its job (RFC 3461 §6.2). */
    readonly dsn?: boolean;
  }
  | { readonly kind: 'tempfail'; readonly reply?: Reply; readonly mx?: string; readonly reason: string }
  | { readonly kind: 'permfail'; readonly reply?: Reply; readonly mx?: string; readonly reason: string };

export interface RemoteResult {
  readonly address: string;
  readonly outcome: RemoteOutcome;
}

export interface RemoteDelivery {
  /**
   * One attempt for every recipient of the job. Resolves with one result per recipient (same
   * addresses); a recipient left out counts as a tempfail. Must not reject: errors are tempfails.
   * The signal aborts at server stop (answer tempfail for what did not finish).
   */
  deliver(job: RemoteJob, signal: AbortSignal): Promise<readonly RemoteResult[]>;
}

export const REMOTE_DELIVERY = defineService<RemoteDelivery>('remoteDelivery');

/** What the outbound notification hooks (delivered, deferred, bounced) see, per recipient. */
export interface OutboundEvent {
  readonly queueId: string;
  readonly recipient: string;
  readonly mailFrom: string;
  readonly attempt: number;
  readonly mx?: string;
  readonly reply?: Reply;
  readonly reason?: string;
  /** deferred: when the next attempt is due (epoch ms). */
  readonly nextAttemptAt?: number;
}
