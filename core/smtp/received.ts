/**
 * The Received trace field (RFC 5321 §4.4, RFC 5322 §3.6.7). It names our host, never our
 * software. The protocol keyword follows RFC 3848 (ESMTPS, ESMTPSA …).
 */
export interface ReceivedInfo {
  helo?: string;
  clientHostname?: string;
  remoteAddress: string;
  hostname: string;
  esmtp: boolean;
  secure: boolean;
  authenticated: boolean;
  tls?: { protocol?: string; cipher?: string };
  queueId: string;
  /** Only with a single recipient (listing several would disclose Bcc recipients). */
  recipient?: string;
  date: Date;
}

const clean = (s: string) => s.replace(/[^\x21-\x7e]/g, '?').slice(0, 255);

export function rfc5322Date(d: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]}, ${d.getUTCDate()} ${months[d.getUTCMonth()]} ${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}

export function receivedHeader(i: ReceivedInfo): string {
  const proto = i.esmtp ? `ESMTP${i.secure ? 'S' : ''}${i.authenticated ? 'A' : ''}` : 'SMTP';
  const ip = i.remoteAddress.includes(':') ? `IPv6:${i.remoteAddress}` : i.remoteAddress;
  const from = `from ${clean(i.helo || 'unknown')} (${i.clientHostname ? clean(i.clientHostname) + ' ' : ''}[${ip}])`;
  const tls = i.secure && i.tls?.protocol ? `\r\n\t(using ${clean(i.tls.protocol)}${i.tls.cipher ? ` with cipher ${clean(i.tls.cipher)}` : ''})` : '';
  const rcpt = i.recipient ? `\r\n\tfor <${clean(i.recipient)}>` : '';
  return `Received: ${from}\r\n\tby ${clean(i.hostname)} with ${proto} id ${i.queueId}${tls}${rcpt};\r\n\t${rfc5322Date(i.date)}\r\n`;
}
