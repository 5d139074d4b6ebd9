import type { SpoolEnvelope } from './envelope.ts';

/**
 * The port between the scheduler (core/queue), which decides WHEN a delivery status notification
 * is due, and the DSN writer (core/dsn), which writes the RFC 3464 report and submits it through
 * the internal submission path. The scheduler marks the recipients notified only after `send`
 * resolves, so a crash in between sends the notice again rather than never (at-least-once).
 */
export interface NotifyRecipient {
  /** The recipient as given at RCPT TO. */
  readonly address: string;
  /** RFC 3461 ORCPT, when the client gave one. */
  readonly orcpt?: string;
  /** RFC 3464 §2.3.3 Action: failed, delayed, delivered, relayed, expanded. */
  readonly action: 'failed' | 'delayed' | 'delivered' | 'relayed';
  /** RFC 3463 status, e.g. 5.1.1. */
  readonly status: string;
  /** The remote reply or our own reason ("smtp; 550 5.1.1 no such user"). */
  readonly diagnostic?: string;
  /** The host that answered (RFC 3464 §2.3.5 Remote-MTA). */
  readonly remoteMta?: string;
  readonly lastAttemptAt?: number;
  /** Delay notices: when the server gives up (RFC 3464 §2.3.9 Will-Retry-Until). */
  readonly willRetryUntil?: number;
}

export interface NotifyRequest {
  readonly kind: 'failure' | 'delay' | 'success';
  /** The original message's envelope (sender, ENVID, RET, received time) and its spooled body path. */
  readonly envelope: SpoolEnvelope;
  readonly bodyPath: string;
  readonly recipients: readonly NotifyRecipient[];
}

export interface DeliveryNotifier {
  /**
   * Write and submit the notification. Resolves once it is durably queued (or deliberately
   * dropped: null sender, NOTIFY=NEVER); rejects when it could not be queued (the scheduler
   * retries later).
   */
  send(req: NotifyRequest): Promise<void>;
}
