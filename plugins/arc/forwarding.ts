import { isTrustedSession } from '../../core/auth-results/trusted.ts';
import type { SmtpTransaction } from '../../core/smtp/types.ts';

/**
 * Mail this server forwards: some recipient resolved to a remote address (an alias pointing
 * outside, RFC 8617 §1's intermediary) while the client is not one of ours relaying its own mail.
 */
export function isForwarded(tx: SmtpTransaction): boolean {
  if (isTrustedSession(tx.session)) return false;
  return tx.rcptTo.some((r) => r.targets.some((t) => t.kind === 'remote'));
}
