import { z } from 'zod';
import { normalizeDomain } from './address.ts';

/** A domain name (UTF-8 or ASCII); compared in canonical form (see address.ts). */
export const domainName = z.string().superRefine((v, ctx) => {
  if (!normalizeDomain(v) || v.trim().startsWith('[')) ctx.addIssue({ code: 'custom', message: `"${v}" is not a domain name` });
});

/** Subaddress separator characters, '' for none. */
export const plusSeparator = z.string().max(8).regex(/^[^\s@"\\()<>[\],;:a-zA-Z0-9]*$/, 'separator characters must be punctuation other than @ " \\ ( ) < > [ ] , ; :')
  .default('+')
  .describe('Subaddress separator (RFC 5233): mail to alice+news@ goes to alice@. Several characters: any of them separates (as Postfix recipient_delimiter). \'\' turns tags off.');

export const LocalDomainsConfig = z.strictObject({
  domains: z.array(domainName).default([])
    .describe('The domains this server is the final destination for. Empty (the default): every domain the user directory has users in (USER_DIRECTORY domains()), looked up at each RCPT.'),
  plusSeparator,
});

export type LocalDomainsConfig = z.output<typeof LocalDomainsConfig>;
