import type { Reply } from '../verdict.ts';
import { replyText } from './codes.ts';

/** The error shape smtp-server turns into a reply: the text carries the enhanced code once. */
export function smtpError(reply: Reply): Error & { responseCode: number } {
  return Object.assign(new Error(replyText(reply)), { responseCode: reply.code });
}
