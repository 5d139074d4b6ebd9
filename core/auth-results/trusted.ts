import type { SmtpSession } from '../smtp/types.ts';

/**
 * Sessions whose mail is ours to send, not ours to judge: an authenticated user or a client the
 * relay policy trusts. SPF/DKIM/DMARC of such mail says nothing useful (the user's dynamic IP is
 * not in the domain's SPF record), and enforcing DMARC there would refuse our own users' mail.
 */
export function isTrustedSession(session: SmtpSession): boolean {
  return Boolean(session.user) || session.relay.allowed;
}
