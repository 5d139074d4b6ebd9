import type { NotifyRecipient } from '../queue/notify-port.ts';
import { rfc5322Date } from '../smtp/received.ts';
import { oneLine } from './fields.ts';

export type NoticeKind = 'failure' | 'delay' | 'success';

export const SUBJECTS: Readonly<Record<NoticeKind, string>> = Object.freeze({
  failure: 'Undelivered Mail Returned to Sender',
  delay: 'Delayed Mail (still being retried)',
  success: 'Successful Mail Delivery Report',
});

export interface HumanText {
  readonly kind: NoticeKind;
  readonly hostname: string;
  readonly queueId: string;
  readonly arrivalDate: number;
  readonly subject?: string;
  readonly recipients: readonly NotifyRecipient[];
  /** Whether the original (or its header section) is attached, and which. */
  readonly attached: 'full' | 'headers' | 'none';
}

function why(r: NotifyRecipient): string[] {
  const lines: string[] = [];
  const diag = r.diagnostic ? oneLine(r.diagnostic).replace(/^smtp;\s*/i, '') : undefined;
  if (r.remoteMta && diag) lines.push(`The mail server ${oneLine(r.remoteMta)} answered:`, `    ${diag}`);
  else if (r.remoteMta) lines.push(`Handed to the mail server ${oneLine(r.remoteMta)}.`);
  else if (diag) lines.push(`Reason: ${diag}`);
  lines.push(`(status ${r.status})`);
  return lines;
}

/**
 * The human-readable first part of the report (RFC 3464 §2: "a human readable explanation").
 * Plain words first: which recipients, what happened, what the other server said.
 */
export function humanText(t: HumanText): string {
  const n = t.recipients.length;
  const them = n === 1 ? 'the recipient below' : `the ${n} recipients below`;
  const out: string[] = [`This is the mail system at ${t.hostname}.`, ''];
  if (t.kind === 'failure') {
    out.push(`Your message could not be delivered to ${them}.`,
      'This is a permanent error: the message will not be retried. Please check',
      'the address, or ask the recipient to contact their postmaster, before',
      'sending it again.');
  } else if (t.kind === 'delay') {
    const until = Math.max(0, ...t.recipients.map((r) => r.willRetryUntil ?? 0));
    out.push(`Your message has not been delivered to ${them} yet.`,
      'This is only a warning: the server keeps trying',
      until ? `until ${rfc5322Date(new Date(until))}, and tells you again only if it gives up.` : 'and tells you again only if it gives up.',
      'You do not need to send the message again.');
  } else {
    out.push(`Your message was delivered to ${them}, as you asked (NOTIFY=SUCCESS).`);
  }
  out.push('');
  for (const r of t.recipients) {
    out.push(`  <${oneLine(r.address)}>${r.action === 'relayed' ? ' (relayed to a server that sends no further reports)' : ''}`);
    for (const l of why(r)) out.push(`    ${l}`);
    out.push('');
  }
  out.push('About the original message:');
  if (t.subject !== undefined) out.push(`  Subject: ${oneLine(t.subject)}`);
  out.push(`  Received: ${rfc5322Date(new Date(t.arrivalDate))}`, `  Queue id: ${t.queueId}`, '');
  out.push(t.attached === 'full' ? 'The original message is attached.' : t.attached === 'headers' ? 'The header section of the original message is attached.' : 'The original message is no longer available.');
  return out.join('\r\n') + '\r\n';
}
