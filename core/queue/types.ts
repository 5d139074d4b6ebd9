import type { Reply } from '../verdict.ts';
import type { MessageBody } from './body.ts';
import type { HeaderRemoval } from './compose.ts';

/** A recipient delivered before the 250, reported in the transaction's log line. */
export interface InlineDelivered {
  rcpt: string;
  user: string;
  detail?: string;
}

/** One local recipient's delivery, as the delivery.local hook sees it. */
export interface LocalDelivery {
  readonly queueId: string;
  /** The envelope sender ('' for the null sender). */
  readonly mailFrom: string;
  /** The address the client gave at RCPT TO. */
  readonly recipient: string;
  /** The user and folder the recipient resolved to. */
  readonly user: string;
  readonly folder?: string;
  /** Header lines (each ending CRLF) to put before the spooled bytes: the transaction's header edits. */
  readonly headerPrefix: Buffer;
  /** Header fields the transaction removed (see HeaderRemoval); a delivery agent drops them from the top-level header (composeMessage). */
  readonly removeHeaders: readonly HeaderRemoval[];
  /** The received message (in memory or in the spool file), with the Received header at its top. */
  readonly body: MessageBody;
  readonly size: number;
}

export type DeliveryResult =
  | { kind: 'delivered'; detail?: string }
  | { kind: 'tempfail'; reason: string }
  | { kind: 'permfail'; reason: string; reply?: Reply };

export interface DeliveryEvent {
  readonly queueId: string;
  readonly recipient: string;
  readonly detail?: string;
}
