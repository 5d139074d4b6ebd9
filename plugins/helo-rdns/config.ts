import { z } from 'zod';
import { actionSchema, type Action } from '../../core/policy/action.ts';

const check = (score: number, action: Action, what: string) => z.strictObject({
  action: actionSchema(action),
  score: z.number().default(score).describe('Score recorded with the evidence (spam-score adds these up).'),
}).prefault({}).describe(what);

export const HeloRdnsConfig = z.strictObject({
  noPtr: check(1.5, 'tag', 'The client address has no PTR name (no reverse DNS at all).'),
  ptrMismatch: check(1, 'tag', 'The PTR names do not lead back to the client address (forward-confirmed reverse DNS fails, RFC 8601 §3).'),
  syntax: check(2, 'tag', 'The HELO argument is neither a fully qualified domain name nor a valid address literal (RFC 5321 §4.1.1.1).'),
  bareIp: check(2, 'tag', 'The HELO argument is an IP address without brackets (RFC 5321 §4.1.3 requires [1.2.3.4]).'),
  literalMismatch: check(3, 'tag', 'The HELO argument is an address literal that is not the client\'s address.'),
  impersonation: check(5, 'tag', 'The HELO argument is this server\'s host name or one of the local domains.'),
  lookupTimeoutMs: z.number().int().min(50).max(30_000).default(3000)
    .describe('Time budget for each reverse and forward lookup. A lookup that runs out records fcrdns=temperror and never refuses anything.'),
  listeners: z.array(z.enum(['mx', 'submission', 'submissions'])).default(['mx'])
    .describe('Listener kinds whose clients are checked. Submission clients (laptops, phones) rarely have a proper name, so they are left out by default.'),
  checkPrivate: z.boolean().default(false)
    .describe('Also check loopback, private and link-local clients (internal hosts often have no reverse DNS).'),
});

export type HeloRdnsConfig = z.output<typeof HeloRdnsConfig>;
