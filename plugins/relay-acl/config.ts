import { z } from 'zod';
import { cidrProblem } from './cidr.ts';

const network = z.string()
  .superRefine((v, ctx) => {
    const problem = cidrProblem(v);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe('An IPv4 or IPv6 network in CIDR notation (10.0.0.0/8, 2001:db8::/32) or a single address.');

export const RelayAclConfig = z.strictObject({
  networks: z.array(network).default([])
    .describe('Client networks that may relay without authenticating (CIDR, IPv4 and IPv6). IPv4 networks also match IPv4-mapped IPv6 clients (::ffff:10.1.2.3). Default: none.'),
  authenticated: z.boolean().default(true)
    .describe('Let clients that authenticated (SMTP AUTH, RFC 4954) relay. Checked at MAIL FROM.'),
});

export type RelayAclConfig = z.output<typeof RelayAclConfig>;
