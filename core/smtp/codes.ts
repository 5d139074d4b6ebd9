import type { Reply } from '../verdict.ts';

/**
 * Every reply the core and built-in plugins send, named. Plugins use these rather than literals.
 * Codes: RFC 5321 §4.2; enhanced codes: RFC 3463 and the IANA registry (RFC 5248).
 * Texts never name the software or its version.
 */
const r = (code: number, enhanced: string, text: string): Readonly<Reply> => Object.freeze({ code, enhanced, text });

export const REPLY = Object.freeze({
  ok: r(250, '2.0.0', 'OK'),
  senderOk: r(250, '2.1.0', 'Sender OK'),
  recipientOk: r(250, '2.1.5', 'Recipient OK'),
  // 4xx
  tempLocal: r(451, '4.3.0', 'Temporary local problem, please try again later'),
  hookTimeout: r(451, '4.3.0', 'Temporary local problem (check timed out), please try again later'),
  noQueue: r(451, '4.3.0', 'Message could not be queued, please try again later'),
  remoteDeliveryUnavailable: r(451, '4.3.5', 'Remote delivery is not configured here, please try again later'),
  tooManyConnections: r(421, '4.7.0', 'Too many connections, try again later'),
  tooManyFromYou: r(421, '4.7.0', 'Too many connections from your address, try again later'),
  tooManyRecipients: r(452, '4.5.3', 'Too many recipients'),
  authTempfail: r(454, '4.7.0', 'Temporary authentication failure'),
  authThrottled: r(454, '4.7.0', 'Too many failed authentication attempts, try again later'),
  shuttingDown: r(421, '4.3.2', 'Service shutting down'),
  policyTemp: r(451, '4.7.1', 'Temporarily refused by policy, please try again later'),
  timeout: r(421, '4.4.2', 'Timeout, closing connection'),
  // 5xx
  relayDenied: r(550, '5.7.1', 'Relaying denied'),
  noSuchUser: r(550, '5.1.1', 'No such user here'),
  badSenderSyntax: r(501, '5.1.7', 'Bad sender address syntax'),
  badRecipientSyntax: r(501, '5.1.3', 'Bad recipient address syntax'),
  messageTooBig: r(552, '5.3.4', 'Message too big for system'),
  bareLineEnding: r(550, '5.5.2', 'Message contains bare CR or LF line endings (see RFC 5321 section 2.3.8)'),
  lineTooLong: r(550, '5.5.2', 'Message contains a line longer than allowed (see RFC 5321 section 4.5.3.1.6)'),
  authFailed: r(535, '5.7.8', 'Authentication credentials invalid'),
  authRequired: r(530, '5.7.0', 'Authentication required'),
  policy: r(550, '5.7.1', 'Message refused by policy'),
  senderNotOwned: r(553, '5.7.1', 'Sender address not owned by the authenticated user'),
});

export type ReplyName = keyof typeof REPLY;

/** Render a reply as the text smtp-server sends after the code: "5.7.1 Relaying denied". */
export function replyText(reply: Reply): string {
  return reply.enhanced ? `${reply.enhanced} ${reply.text}` : reply.text;
}

/** Copy a named reply with a different text, keeping its codes. */
export function withText(reply: Reply, text: string): Reply {
  return { code: reply.code, ...(reply.enhanced ? { enhanced: reply.enhanced } : {}), text };
}
