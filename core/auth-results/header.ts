/**
 * Writes the one Authentication-Results field (RFC 8601) of a transaction, from what the
 * authentication plugins recorded, and drops arriving fields that claim our authserv-id.
 *
 * Every authentication plugin registers the same two taps; whichever runs first writes the field
 * and the others find it written, so any subset of the plugins gives exactly one field.
 */
import type { PluginHooks } from '../plugin.ts';
import { firstToken } from '../queue/compose.ts';
import { defineSlot } from '../slots.ts';
import type { SmtpTransaction } from '../smtp/types.ts';
import { STAGE } from '../verdict.ts';
import { formatAuthResults } from './format.ts';
import { authResults } from './record.ts';

export const AR_HEADER = 'Authentication-Results';

/** The field value once written ('' when there was nothing to report); the ARC sealer copies it. */
export const AUTH_RESULTS_HEADER = defineSlot<string>('auth-results.header');

export async function ensureAuthResults(tx: SmtpTransaction, authservId: string): Promise<string> {
  const done = tx.slots.get(AUTH_RESULTS_HEADER);
  if (done !== undefined) return done;
  tx.slots.set(AUTH_RESULTS_HEADER, '');
  const ours = authservId.toLowerCase();
  // RFC 8601 §5: a field that claims our authserv-id and arrived with the message is forged (or
  // stale): remove it. Fields of other authserv-ids stay (§7.1: we say nothing about them).
  const headers = tx.message ? await tx.message.headers() : [];
  if (headers.some((h) => h.name.toLowerCase() === 'authentication-results' && firstToken(h.value) === ours)) {
    tx.removeHeader(AR_HEADER, { firstToken: ours });
  }
  const results = authResults(tx);
  if (!results.length) return '';
  const value = formatAuthResults(authservId, results);
  tx.addHeader(AR_HEADER, value);
  tx.slots.set(AUTH_RESULTS_HEADER, value);
  return value;
}

/**
 * The field is written at smtp.message, STAGE.DECIDE (after every check recorded its result;
 * list deciding plugins after the authentication ones), and at the latest at smtp.queue, FIRST:
 * a decider that answered at DECIDE before us ends the message chain, the queue hook still runs.
 */
export function registerAuthResults(hooks: PluginHooks, authservId: string): void {
  // Synchronous when the field is already written (every tap but the first): the hook runner's
  // cheap path for answers that need no timer.
  const ensure = (tx: SmtpTransaction): Promise<undefined> | undefined => {
    if (tx.slots.get(AUTH_RESULTS_HEADER) !== undefined) return undefined;
    return ensureAuthResults(tx, authservId).then(() => undefined);
  };
  hooks.smtp.message.tap(ensure, { stage: STAGE.DECIDE });
  hooks.smtp.queue.tap(ensure, { stage: STAGE.FIRST });
}
