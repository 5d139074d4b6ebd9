import { z } from 'zod';
import { cidrProblem } from '../relay-acl/cidr.ts';

const network = z.string()
  .superRefine((v, ctx) => {
    const problem = cidrProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('An IPv4 or IPv6 network in CIDR notation, or a single address.');

const domain = z.string().regex(/^\.?[a-z0-9.-]+$/i, 'a domain name').transform((d) => d.toLowerCase().replace(/^\./, ''));

export const GreylistConfig = z.strictObject({
  delayMs: z.number().int().min(0).default(5 * 60_000)
    .describe('How long a new triplet is refused before a retry passes (RFC 6647 §4.5: a few minutes; default 5 minutes).'),
  retryWindowMs: z.number().int().min(1000).default(4 * 3_600_000)
    .describe('A retry must come within this long after the first attempt, or the triplet starts over (default 4 hours).'),
  passExpiryMs: z.number().int().min(60_000).default(35 * 24 * 3_600_000)
    .describe('How long a triplet that passed is remembered; each later message renews it (RFC 6647 §4.5; default 35 days).'),
  ipv4Prefix: z.number().int().min(8).max(32).default(24)
    .describe('The client network in the triplet: IPv4 addresses are grouped by this prefix, so a sender\'s pool of outbound servers retries as one (RFC 6647 §4.1).'),
  ipv6Prefix: z.number().int().min(16).max(128).default(64).describe('The same for IPv6 clients.'),
  autoAllowAfter: z.number().int().min(0).default(0)
    .describe('After this many triplets from one client network passed, the network skips greylisting until passExpiryMs (RFC 6647 §4.4). 0: off.'),
  networks: z.array(network).default([]).describe('Client networks never greylisted (CIDR, IPv4 and IPv6).'),
  clientDomains: z.array(domain).default([])
    .describe('Client host domains never greylisted, matched against the client\'s verified reverse-DNS name, subdomains included (needs smtp.reverseDns: true).'),
  senderDomains: z.array(domain).default([])
    .describe('Envelope sender domains never greylisted, subdomains included. A sender address is easily forged: prefer networks or clientDomains.'),
  recipients: z.array(z.string().min(1).transform((s) => s.toLowerCase())).default([])
    .describe('Recipients (user@domain, or @domain for a whole domain) that opted out of greylisting.'),
  action: z.enum(['tempfail', 'quarantine', 'tag', 'ignore']).default('tempfail')
    .describe('What a new triplet gets: tempfail (451 4.7.1, real greylisting) or, to roll out gently, quarantine, tag or ignore (the triplet is still recorded, so the sender is known when you switch to tempfail).'),
  onKvFailure: z.enum(['accept', 'tempfail']).default('accept')
    .describe('When the shared store (Redis) does not answer: accept the recipient (fail open, logged) or answer 451 4.3.0.'),
});

export type GreylistConfig = z.output<typeof GreylistConfig>;
