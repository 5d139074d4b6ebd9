import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { rfc5322Date } from '../smtp/received.ts';
import { deliveryStatus, oneLine, reportNeedsUtf8, type StatusReport } from './fields.ts';
import { humanText, SUBJECTS, type HumanText, type NoticeKind } from './text.ts';

/** The most header bytes copied into a text/rfc822-headers part. */
const MAX_HEADER_BYTES = 256 * 1024;

export interface DsnOriginal {
  /**
   * A fresh stream of the original as it was (or would have been) sent: header edits applied.
   * Absent when the original is gone: the notice then has no third part (RFC 3464 §2 makes it optional).
   */
  readonly stream?: () => Readable;
  readonly subject?: string;
  readonly messageId?: string;
  /** The original has 8-bit content (BODY=8BITMIME) or UTF-8 headers (SMTPUTF8). */
  readonly eightBit: boolean;
  readonly utf8Headers: boolean;
}

export interface DsnInput {
  readonly kind: NoticeKind;
  readonly hostname: string;
  /** Who gets the notice (the original sender, or postmaster for a failed notice). */
  readonly to: string;
  readonly queueId: string;
  readonly report: StatusReport;
  readonly original: DsnOriginal;
  /** RFC 3461 §4.3 RET=FULL (within the size cap): attach the whole original; otherwise its header section. */
  readonly full: boolean;
  readonly now: number;
}

/** Quoted-printable (RFC 2045 §6.7) for a text part that is not plain ASCII. */
export function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\r\n')) {
    let enc = '';
    for (const b of Buffer.from(line, 'utf8')) {
      enc += (b >= 33 && b <= 126 && b !== 61) || b === 32 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    enc = enc.replace(/ $/, '=20');
    let rest = enc;
    while (rest.length > 76) {
      let cut = 75;
      // Never split an =XX escape.
      const eq = rest.lastIndexOf('=', cut);
      if (eq > cut - 3) cut = eq;
      out.push(rest.slice(0, cut) + '=');
      rest = rest.slice(cut);
    }
    out.push(rest);
  }
  return out.join('\r\n');
}

function textPart(text: string): string {
  const ascii = !/[^\x00-\x7f]/.test(text);
  return [
    `Content-Type: text/plain; charset=${ascii ? 'us-ascii' : 'utf-8'}`,
    `Content-Transfer-Encoding: ${ascii ? '7bit' : 'quoted-printable'}`,
    'Content-Description: Notification',
    '',
    ascii ? text : quotedPrintable(text),
  ].join('\r\n');
}

/** The original's header section (up to the empty line), streamed; the rest is never read. */
async function* headerSection(src: Readable): AsyncGenerator<Buffer> {
  // The last 3 octets are held back: the empty line may be split across chunks.
  let pending = '';
  let seen = 0;
  try {
    for await (const chunk of src as AsyncIterable<Buffer>) {
      pending += chunk.toString('latin1');
      const m = /\r?\n\r?\n/.exec(pending);
      if (m) {
        // Keep the line break that ends the last field, not the empty line.
        yield Buffer.from(pending.slice(0, m.index + (pending[m.index] === '\r' ? 2 : 1)), 'latin1');
        return;
      }
      if (pending.length > 3) {
        seen += pending.length - 3;
        yield Buffer.from(pending.slice(0, -3), 'latin1');
        pending = pending.slice(-3);
      }
      if (seen > MAX_HEADER_BYTES) return;
    }
    if (pending) yield Buffer.from(pending, 'latin1');
  } finally {
    src.destroy();
  }
}

/**
 * A delivery status notification (RFC 3464 §2, RFC 3462 multipart/report) as a stream: the
 * original is read from its spool file while the notice is written, never held whole in memory.
 * From MAILER-DAEMON ("Mail Delivery System"), Auto-Submitted: auto-replied (RFC 3834 §5).
 */
export function dsnMessage(d: DsnInput): Readable {
  const boundary = `=_dsn_${randomBytes(12).toString('hex')}`;
  const utf8 = reportNeedsUtf8(d.report);
  const human: HumanText = {
    kind: d.kind,
    hostname: d.hostname,
    queueId: d.queueId,
    arrivalDate: d.report.arrivalDate,
    ...(d.original.subject !== undefined ? { subject: d.original.subject } : {}),
    recipients: d.report.recipients,
    attached: !d.original.stream ? 'none' : d.full ? 'full' : 'headers',
  };
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${d.hostname}>`,
    `To: <${oneLine(d.to)}>`,
    `Subject: ${SUBJECTS[d.kind]}`,
    `Date: ${rfc5322Date(new Date(d.now))}`,
    `Message-ID: <${d.queueId}.${d.kind}.${randomBytes(6).toString('hex')}@${d.hostname}>`,
    ...(d.original.messageId && /^<[^<>\s]+>$/.test(d.original.messageId) ? [`In-Reply-To: ${d.original.messageId}`, `References: ${d.original.messageId}`] : []),
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message: a delivery status notification.',
    '',
  ].join('\r\n');
  // RFC 6533 §6: internationalized addresses need message/global-delivery-status (and UTF-8 headers message/global).
  const statusType = utf8 ? 'message/global-delivery-status' : 'message/delivery-status';
  const origType = d.full
    ? (d.original.utf8Headers ? 'message/global' : 'message/rfc822')
    : (d.original.utf8Headers ? 'message/global-headers' : 'text/rfc822-headers');
  const cte = d.original.eightBit || d.original.utf8Headers ? '8bit' : '7bit';
  const stream = d.original.stream;
  const parts = [
    `--${boundary}\r\n${textPart(humanText(human))}\r\n`,
    `--${boundary}\r\nContent-Type: ${statusType}\r\nContent-Description: Delivery report\r\n${utf8 ? 'Content-Transfer-Encoding: 8bit\r\n' : ''}\r\n${deliveryStatus(d.report)}\r\n`,
    ...(stream ? [`--${boundary}\r\nContent-Type: ${origType}\r\nContent-Description: ${d.full ? 'Undelivered message' : 'Header section of the original message'}\r\nContent-Transfer-Encoding: ${cte}\r\n\r\n`] : []),
  ];
  const full = d.full;
  async function* gen(): AsyncGenerator<Buffer> {
    yield Buffer.from(head + '\r\n' + parts.join(''), 'utf8');
    let last = '\r\n';
    if (!stream) {
      yield Buffer.from(`--${boundary}--\r\n`, 'utf8');
      return;
    }
    const src = stream();
    for await (const chunk of full ? (src as AsyncIterable<Buffer>) : headerSection(src)) {
      if (chunk.length) last = chunk.subarray(-2).toString('latin1');
      yield chunk;
    }
    // The closing delimiter must start on a line of its own (RFC 2046 §5.1.1).
    yield Buffer.from(`${last.endsWith('\r\n') ? '' : '\r\n'}\r\n--${boundary}--\r\n`, 'utf8');
  }
  return Readable.from(gen(), { objectMode: false });
}
