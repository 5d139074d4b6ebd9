import type { Readable } from 'node:stream';
import type { Reply } from '../verdict.ts';

export interface SubmitRecipient {
  readonly address: string;
  /** RFC 3461 NOTIFY for this recipient (a DSN is sent with NOTIFY=NEVER, RFC 3461 §6.2). */
  readonly notify?: readonly string[];
  readonly orcpt?: string;
}

export interface SubmitRequest {
  /** The envelope sender; '' is the null reverse-path <> (DSNs, RFC 5321 §4.5.5). */
  readonly mailFrom: string;
  readonly recipients: ReadonlyArray<string | SubmitRecipient>;
  /** The message (header section and body, CRLF line endings); a stream is never held whole in memory. */
  readonly body: Buffer | string | Readable | AsyncIterable<Buffer>;
  /** Who the message is on behalf of (session.user); default MAILER-DAEMON@hostname. */
  readonly user?: string;
  /** The body has 8-bit content (BODY=8BITMIME). */
  readonly eightBit?: boolean;
  /** Addresses or headers need SMTPUTF8. */
  readonly smtpUtf8?: boolean;
  readonly dsn?: { readonly ret?: 'FULL' | 'HDRS'; readonly envid?: string };
}

export interface SubmitResult {
  readonly queueId: string;
  readonly accepted: readonly string[];
  /** Recipients refused at RCPT, with the reply a client would have seen. */
  readonly rejected: ReadonlyArray<{ readonly address: string; readonly reply: Reply }>;
}

/** Nothing was queued: the reply says why (4xx: try again later, 5xx: it will never be accepted). */
export class SubmitError extends Error {
  constructor(readonly reply: Reply, readonly rejected: ReadonlyArray<{ readonly address: string; readonly reply: Reply }> = []) {
    super(`internal submission refused: ${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''} ${reply.text}`);
    this.name = 'SubmitError';
  }

  get temporary(): boolean {
    return this.reply.code < 500;
  }
}
