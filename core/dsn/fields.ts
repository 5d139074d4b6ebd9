import type { NotifyRecipient } from '../queue/notify-port.ts';
import { rfc5322Date } from '../smtp/received.ts';

/**
 * The message/delivery-status body (RFC 3464 §2.1): one per-message block, then one block per
 * recipient, separated by empty lines. Pure: everything it prints comes from its arguments.
 */
export interface StatusReport {
  /** Our host name (Reporting-MTA: dns; …). */
  readonly reportingMta: string;
  /** RFC 3461 ENVID of the original message, as the client sent it (xtext). */
  readonly envid?: string;
  readonly arrivalDate: number;
  readonly recipients: readonly NotifyRecipient[];
}

/** RFC 3461 §4: "+XX" is a hex escape; the decoded form is what a DSN shows (RFC 3464 §2.2.1, §2.3.1). */
export function xtextDecode(s: string): string {
  return s.replace(/\+([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** No control characters in a header field value (a remote reply could carry CR or LF). */
export function oneLine(s: string): string {
  return s.replace(/[\x00-\x1f\x7f]+/g, ' ').replace(/ {2,}/g, ' ').trim();
}

const needsUtf8 = (s: string) => /[^\x00-\x7f]/.test(s);

/** True when any address needs the RFC 6533 form (utf-8 address type, message/global-delivery-status). */
export function reportNeedsUtf8(r: StatusReport): boolean {
  return r.recipients.some((x) => needsUtf8(x.address) || (x.orcpt !== undefined && needsUtf8(xtextDecode(x.orcpt))));
}

/** An address with its type: `rfc822;a@b` (RFC 3464 §2.3.2), `utf-8;` for internationalized ones (RFC 6533 §3). */
export function typedAddress(address: string): string {
  return `${needsUtf8(address) ? 'utf-8' : 'rfc822'};${address}`;
}

/**
 * RFC 3464 §2.3.6 Diagnostic-Code: `smtp; <reply>`. A reason that is not an SMTP reply (a local
 * error, a timeout) is shown as the reply this server would give for the recipient's status.
 */
export function diagnosticCode(diagnostic: string | undefined, status: string): string | undefined {
  if (!diagnostic) return undefined;
  const d = oneLine(diagnostic);
  if (/^[A-Za-z][A-Za-z0-9-]*;\s*/.test(d)) return d.replace(/^([A-Za-z][A-Za-z0-9-]*);\s*/, '$1; ');
  if (/^[245]\d\d[ -]/.test(d)) return `smtp; ${d}`;
  const klass = status[0] === '2' ? 250 : status[0] === '4' ? 451 : 550;
  return `smtp; ${klass} ${status} ${d}`;
}

/** Fold a field at spaces so no line is longer than 78 octets where possible (RFC 5322 §2.2.3). */
export function fold(name: string, value: string): string {
  const words = value.split(' ');
  const lines: string[] = [];
  let cur = `${name}: `;
  for (const w of words) {
    if (cur.length + w.length > 78 && cur.trim().length > name.length + 1) {
      lines.push(cur.trimEnd());
      cur = ' ';
    }
    cur += w + ' ';
  }
  lines.push(cur.trimEnd());
  return lines.join('\r\n') + '\r\n';
}

export function deliveryStatus(r: StatusReport): string {
  let out = fold('Reporting-MTA', `dns; ${r.reportingMta}`);
  if (r.envid) out += fold('Original-Envelope-Id', oneLine(xtextDecode(r.envid)));
  out += fold('Arrival-Date', rfc5322Date(new Date(r.arrivalDate)));
  for (const x of r.recipients) {
    out += '\r\n';
    if (x.orcpt) {
      // ORCPT is addr-type;xtext (RFC 3461 §4.2); the report shows it decoded.
      const semi = x.orcpt.indexOf(';');
      const type = semi > 0 ? x.orcpt.slice(0, semi).toLowerCase() : 'rfc822';
      out += fold('Original-Recipient', oneLine(`${type};${xtextDecode(x.orcpt.slice(semi + 1))}`));
    }
    out += fold('Final-Recipient', typedAddress(oneLine(x.address)));
    out += fold('Action', x.action);
    out += fold('Status', x.status);
    if (x.remoteMta) out += fold('Remote-MTA', `dns; ${oneLine(x.remoteMta)}`);
    const diag = diagnosticCode(x.diagnostic, x.status);
    if (diag) out += fold('Diagnostic-Code', diag);
    if (x.lastAttemptAt) out += fold('Last-Attempt-Date', rfc5322Date(new Date(x.lastAttemptAt)));
    if (x.action === 'delayed' && x.willRetryUntil) out += fold('Will-Retry-Until', rfc5322Date(new Date(x.willRetryUntil)));
  }
  return out;
}
