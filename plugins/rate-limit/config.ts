import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';
import { cidrProblem } from '../relay-acl/cidr.ts';

const network = z.string()
  .superRefine((v, ctx) => {
    const problem = cidrProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('An IPv4 or IPv6 network in CIDR notation, or a single address.');

const windowed = (what: string) => z.strictObject({
  limit: z.number().int().min(1).describe(`Most ${what} allowed per window; the next one is refused.`),
  windowMs: z.number().int().min(1000).default(3_600_000).describe('The window, in milliseconds (fixed windows aligned to the clock; default 1 hour).'),
  action: actionSchema('tempfail'),
}).optional().describe(`Limit on ${what} per window. Absent: no limit.`);

export const RateLimitConfig = z.strictObject({
  concurrentConnectionsPerIp: z.strictObject({
    limit: z.number().int().min(1).describe('Most connections one client address may have open at once, across every server sharing the store.'),
    action: actionSchema('tempfail'),
    staleAfterMs: z.number().int().min(60_000).default(3_600_000)
      .describe('A count left behind by a server that died is forgotten after this long (the store has no connection to watch).'),
  }).optional().describe('Limit on connections open at once per client address (all servers sharing the kv). Refused with 421 4.7.0 and closed. Absent: no limit (the core\'s own smtp.maxConnectionsPerIp still applies per process).'),
  connectionsPerIp: windowed('connections from one client address'),
  messagesPerIp: windowed('messages (MAIL FROM) from one client address'),
  recipientsPerIp: windowed('recipients (RCPT TO) from one client address'),
  messagesPerSender: windowed('messages from one envelope sender (the null sender <> counts as one sender)'),
  recipientsPerSender: windowed('recipients from one envelope sender'),
  messagesPerRecipient: windowed('messages to one recipient'),
  skipNetworks: z.array(network).default([]).describe('Client networks no limit applies to (CIDR, IPv4 and IPv6).'),
  skipSenders: z.array(z.string().min(1).transform((s) => s.toLowerCase())).default([])
    .describe('Envelope senders (user@domain, or @domain) the message and recipient limits do not apply to. Senders are easily forged: prefer skipNetworks.'),
  skipAuthenticated: z.boolean().default(true).describe('Authenticated sessions skip the message and recipient limits (outbound limits are the submission-limits plugin\'s job).'),
  skipRelayClients: z.boolean().default(true).describe('Sessions allowed to relay (relay-acl networks) skip every limit.'),
  onKvFailure: z.enum(['accept', 'tempfail']).default('accept')
    .describe('When the shared store (Redis) does not answer: let the client through (fail open, logged) or refuse with 4xx (421 4.3.0 at connect, 451 4.3.0 later).'),
});

export type RateLimitConfig = z.output<typeof RateLimitConfig>;
export type WindowLimit = NonNullable<RateLimitConfig['messagesPerIp']>;
