import type { Readable } from 'node:stream';
import type { Logger } from '../log.ts';
import type { SlotStore } from '../slots.ts';
import type { TraceEntry } from '../hook-runner.ts';
import type { DeliveryTarget, Verdict } from '../verdict.ts';

/** mx: port 25 role, no AUTH. submission: STARTTLS then AUTH required. submissions: implicit TLS. */
export type ListenerKind = 'mx' | 'submission' | 'submissions';

export interface ListenerInfo {
  readonly name: string;
  readonly kind: ListenerKind;
  readonly host: string;
  readonly port: number;
}

/** One SMTP connection. Lives from accept to close. */
export interface SmtpSession {
  readonly id: string;
  readonly listener: ListenerInfo;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly openedAt: number;
  /** True once TLS is up (implicit or after STARTTLS). */
  readonly secure: boolean;
  readonly tls?: { protocol?: string; cipher?: string };
  /** The client's name from reverse DNS, when a lookup was made and matched. */
  readonly clientHostname?: string;
  /** The last HELO/EHLO. */
  readonly helo?: { verb: 'HELO' | 'EHLO'; host: string };
  /** The authenticated user id, after a successful AUTH. */
  readonly user?: string;
  /** Whether recipients outside the local domains may be accepted; see allowRelay. */
  readonly relay: { readonly allowed: boolean; readonly reason?: string };
  /** Let this session relay (the relay-acl plugin calls this for trusted networks and authenticated users). */
  allowRelay(reason: string): void;
  readonly slots: SlotStore;
  /** Evidence recorded before MAIL FROM (connect, HELO checks); every transaction starts with a copy. */
  readonly evidence: Evidence[];
  readonly log: Logger;
  /** Transactions completed on this connection so far. */
  readonly transactionCount: number;
}

/** MAIL FROM. An empty address is the null reverse-path <> (bounces, RFC 5321 §4.5.5). */
export interface MailFrom {
  readonly address: string;
  readonly args: Readonly<Record<string, string | boolean>>;
  readonly smtpUtf8: boolean;
  readonly body: '7bit' | '8bitmime';
  readonly size?: number;
  /** RFC 3461 envelope parameters, kept for the outbound DSN work. */
  readonly dsn?: { readonly ret?: 'FULL' | 'HDRS'; readonly envid?: string };
  readonly requireTls: boolean;
}

/** RCPT TO as the client sent it. */
export interface Recipient {
  readonly address: string;
  readonly args: Readonly<Record<string, string | boolean>>;
  /** RFC 3461 NOTIFY and ORCPT. */
  readonly dsn?: { readonly notify?: readonly string[]; readonly orcpt?: string };
}

export interface AcceptedRecipient extends Recipient {
  readonly targets: readonly DeliveryTarget[];
}

/** Evidence a check records; the deciding plugin and the log line read it. */
export interface Evidence {
  plugin: string;
  check: string;
  result: string;
  score?: number;
  reason?: string;
  /**
   * What the check asked for (its `action` option) when it did not answer a verdict itself:
   * `quarantine` makes the core deliver to Junk unless a later verdict says otherwise; `tag` and
   * `ignore` are recorded only. See core/policy/action.ts.
   */
  action?: 'quarantine' | 'tag' | 'ignore';
}

/** A header to add to or remove from the message; applied once, at delivery. */
export type HeaderEdit =
  | { op: 'add'; name: string; value: string }
  /**
   * Drop every top-level field of that name, or with `firstToken` only those whose value starts
   * with that token (case-insensitive, after CFWS): e.g. Authentication-Results fields that
   * claim our own authserv-id (RFC 8601 §5).
   */
  | { op: 'remove'; name: string; firstToken?: string };

/** The message body on disk, after DATA; read lazily. */
export interface SpooledMessage {
  /** Bytes as received (with the Received header the core adds). */
  readonly size: number;
  /** The header section, unfolded, parsed once on first use. */
  headers(): Promise<ReadonlyArray<{ name: string; value: string }>>;
  /** A fresh stream of the raw message. */
  stream(): Readable;
}

/** From MAIL FROM to the end of DATA. */
export interface SmtpTransaction {
  /** The queue id. */
  readonly id: string;
  readonly session: SmtpSession;
  readonly mailFrom: MailFrom;
  readonly rcptTo: readonly AcceptedRecipient[];
  readonly slots: SlotStore;
  readonly evidence: Evidence[];
  /** Header edits, in order. Use addHeader/removeHeader. */
  readonly headerEdits: readonly HeaderEdit[];
  addHeader(name: string, value: string): void;
  /** Remove every field of that name, or with `match.firstToken` only the fields whose value starts with it. */
  removeHeader(name: string, match?: { firstToken: string }): void;
  /** Set once the body is spooled (message and queue hooks). */
  readonly message?: SpooledMessage;
  /** Verdicts and timings, for the transaction log line and `explain`. */
  readonly trace: readonly TraceEntry[];
  readonly log: Logger;
}

export interface HeloInfo {
  readonly verb: 'HELO' | 'EHLO';
  readonly host: string;
}

export interface DisconnectInfo {
  readonly reason: 'quit' | 'timeout' | 'error' | 'closed' | 'refused';
}

/** What the queue hook sees: the final message verdict (accept or quarantine) decided before it. */
export interface QueueInfo {
  readonly verdict: Verdict;
}
