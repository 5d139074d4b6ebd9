import type { DeliveryTarget } from '../verdict.ts';
import type { HeaderEdit, MailFrom } from '../smtp/types.ts';

export type RecipientState = 'pending' | 'delivered' | 'failed';

/** One delivery target of a message, with its own state (a message is spooled once). */
export interface SpoolRecipient {
  /** The address the client gave at RCPT TO. */
  address: string;
  dsn?: { notify?: readonly string[]; orcpt?: string };
  target: DeliveryTarget;
  state: RecipientState;
  attempts: number;
  /** Epoch ms; absent = now. */
  nextAttemptAt?: number;
  lastError?: string;
  doneAt?: number;
  /** Epoch ms of the last attempt (local ones attempted before a restart are retried at once). */
  lastAttemptAt?: number;
  /** RFC 3463 status of the last outcome (for the DSN), e.g. 4.4.1 or 5.1.1. */
  status?: string;
  /** The last reply as the next hop gave it ("smtp; 550 5.1.1 ..."), for the DSN. */
  diagnostic?: string;
  /** The host that answered last (RFC 3464 §2.3.5). */
  remoteMta?: string;
  /** Delivered to a next hop that offered DSN: the success notice is its job (RFC 3461 §6.2). */
  nextHopDsn?: boolean;
  /** When the final notice (failure or success) was queued; set only after the notifier resolved. */
  notifiedAt?: number;
  /** When the delay warning was queued. */
  delayNotifiedAt?: number;
}

/** What is stored beside each spooled message. No secrets: no passwords, no AUTH data. */
export interface SpoolEnvelope {
  v: 1;
  id: string;
  receivedAt: number;
  size: number;
  mailFrom: MailFrom;
  client: { address: string; helo?: string; user?: string; listener: string; secure: boolean };
  headerEdits: HeaderEdit[];
  quarantine?: string;
  recipients: SpoolRecipient[];
  /**
   * The time in this message's schedule hint file name (`<id>.next-<t>`, spool.ts), when one was
   * written: a restart schedules the message from the file name without reading the envelope.
   */
  hintAt?: number;
}

export function targetKey(t: DeliveryTarget): string {
  return t.kind === 'local' ? `local:${t.user.toLowerCase()}:${t.folder ?? ''}` : `remote:${t.address.toLowerCase()}`;
}

export function isFinal(r: SpoolRecipient): boolean {
  return r.state === 'delivered' || r.state === 'failed';
}
