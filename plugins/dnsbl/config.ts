import { isIP } from 'node:net';
import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';
import { parseCodeRange } from './codes.ts';

const code = z.string().superRefine((v, ctx) => {
  const r = parseCodeRange(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
}).describe('A return code: one address (127.0.0.2), a range (127.0.0.2-127.0.0.11) or a network (127.0.0.0/24).');

const zoneName = z.string().trim().toLowerCase()
  .regex(/^(?=.{1,200}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$/, 'a DNS zone name like zen.spamhaus.org')
  .transform((z) => z.replace(/\.$/, ''));

export const BlockZone = z.strictObject({
  zone: zoneName.describe('The list\'s DNS zone, e.g. zen.spamhaus.org.'),
  returnCodes: z.array(code).default([])
    .describe('Answers that mean "listed" (e.g. ["127.0.0.2-127.0.0.11"]). Empty: any 127.0.0.0/8 answer that is not an error code.'),
  score: z.number().default(5).describe('Score recorded with the evidence (spam-score adds these up).'),
  action: actionSchema('reject'),
});

export const AllowZone = z.strictObject({
  zone: zoneName.describe('The allow list\'s DNS zone (a DNSWL), e.g. list.dnswl.org.'),
  returnCodes: z.array(code).default([])
    .describe('Answers that mean "allow-listed". Empty: any 127.0.0.0/8 answer that is not an error code.'),
});

export const DnsblConfig = z.strictObject({
  zones: z.array(BlockZone).default([])
    .describe('Block lists (RFC 5782), queried in parallel at connect. Each has its return codes, score and action.'),
  allowZones: z.array(AllowZone).default([])
    .describe('Allow lists (DNSWL). A listed client is not held to the block lists; evidence "allowlisted" is recorded and the DNSWL slot is set for later checks (greylist, spam-score) to skip.'),
  errorCodes: z.array(code).default(['127.255.255.0/24'])
    .describe('Answers that mean the list refused or could not answer the query (Spamhaus: 127.255.255.252/254/255). Such a zone is ignored for that client and a warning is logged.'),
  rejectAt: z.enum(['connect', 'rcpt']).default('rcpt')
    .describe('Where a reject/tempfail action answers: connect (554 5.7.1 and disconnect) or rcpt (550 5.7.1 for every recipient except postmaster, RFC 5321 §4.5.1; the client sees why and postmaster mail still arrives).'),
  budgetMs: z.number().int().min(50).max(30_000).default(3000)
    .describe('Time budget for all lookups of one client (they run in parallel). A zone that has not answered by then is ignored with a warning.'),
  listeners: z.array(z.enum(['mx', 'submission', 'submissions'])).default(['mx'])
    .describe('Listener kinds whose clients are checked. Authenticated sessions are never refused at RCPT.'),
  checkPrivate: z.boolean().default(false)
    .describe('Also check loopback, private (RFC 1918, RFC 4193), link-local and shared (RFC 6598) clients. Off: they are never looked up (lists do not list them, and the lookup would leak internal addresses).'),
  outboundAddresses: z.array(z.string().refine((v) => isIP(v) !== 0, 'an IPv4 or IPv6 address')).default([])
    .describe('This server\'s sending addresses, for `pochta doctor blacklists`. Empty: the host\'s non-loopback interface addresses.'),
});

export type DnsblConfig = z.output<typeof DnsblConfig>;
export type BlockZoneConfig = z.output<typeof BlockZone>;
