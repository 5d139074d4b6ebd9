import { z } from 'zod';

const limits = (messages: number, recipients: number, who: string) => z.strictObject({
  messages: z.number().int().min(0).default(messages).describe(`Messages (MAIL FROM) per window ${who}; 0 = no limit.`),
  recipients: z.number().int().min(0).default(recipients).describe(`Recipients (RCPT TO) per window ${who}; 0 = no limit.`),
}).prefault({});

export const SubmissionLimitsConfig = z.strictObject({
  perUser: limits(200, 1000, 'per authenticated user (counted across every node that shares the kv store)'),
  perIp: limits(500, 2000, 'per client address of authenticated sessions (several accounts behind one hijacked host)'),
  windowMs: z.number().int().min(60_000).default(3_600_000)
    .describe('Length of the counting window (fixed windows; one hour by default).'),
  senderCheck: z.enum(['off', 'envelope', 'envelope+header']).default('envelope+header')
    .describe('Which sender addresses must belong to the authenticated user: none, MAIL FROM (553 5.7.1 otherwise), or MAIL FROM and every From: address (550 5.7.1 otherwise). The null sender <> is always allowed.'),
  plusSeparator: z.string().max(5).default('+')
    .describe('Subaddress separators (RFC 5233): alice+news@example.com belongs to alice@example.com. Empty: none.'),
  owners: z.record(z.string().min(3), z.array(z.string().min(2))).default({})
    .describe('Extra addresses a user may send as: user → addresses, or "@domain" for any address of a domain. Example: {"alice@example.com": ["sales@example.com"]}.'),
  kvFailure: z.enum(['open', 'closed']).default('open')
    .describe('When the kv store (Redis) cannot be reached: open lets mail through uncounted (one error line per failure), closed answers 451 4.3.0.'),
  exempt: z.array(z.string()).default([])
    .describe('Users with no message or recipient limits (a mailing-list robot); the sender check still applies.'),
});

export type SubmissionLimitsConfig = z.output<typeof SubmissionLimitsConfig>;
