import { z } from 'zod';
import { normalizeDomain, parseAddress, canonicalAddress } from '../local-domains/address.ts';
import { domainName, plusSeparator } from '../local-domains/config.ts';

/** A full mail address (local@domain); UTF-8 allowed. */
export const mailAddress = z.string().superRefine((v, ctx) => {
  const a = parseAddress(v);
  if (!a || !a.domain) ctx.addIssue({ code: 'custom', message: `"${v}" is not a mail address (local@domain)` });
});

/** One address or a non-empty list of them. */
export const aliasTargets = z.union([mailAddress, z.array(mailAddress).min(1, 'an alias needs at least one target')]);

/** Keys must be addresses, and distinct once canonical (`Sales@X.test` and `sales@x.test` are one alias). */
export const aliasMap = z.record(z.string(), aliasTargets).superRefine((map, ctx) => {
  const seen = new Map<string, string>();
  for (const key of Object.keys(map)) {
    const a = parseAddress(key);
    if (!a || !a.domain) {
      ctx.addIssue({ code: 'custom', message: `"${key}" is not a mail address (local@domain)`, path: [key] });
      continue;
    }
    const canon = canonicalAddress(a.local, a.domain);
    const first = seen.get(canon);
    if (first !== undefined) ctx.addIssue({ code: 'custom', message: `the same alias as "${first}"`, path: [key] });
    else seen.set(canon, key);
  }
});

const catchAllMap = z.record(z.string(), aliasTargets).superRefine((map, ctx) => {
  const seen = new Map<string, string>();
  for (const key of Object.keys(map)) {
    const d = domainName.safeParse(key).success ? normalizeDomain(key) : undefined;
    if (!d) {
      ctx.addIssue({ code: 'custom', message: `"${key}" is not a domain name`, path: [key] });
      continue;
    }
    const first = seen.get(d);
    if (first !== undefined) ctx.addIssue({ code: 'custom', message: `the same domain as "${first}"`, path: [key] });
    else seen.set(d, key);
  }
});

export const AliasesConfig = z.strictObject({
  file: z.string().min(1).optional()
    .describe('A YAML or JSON file mapping alias addresses to targets (same shape as `aliases`), relative to the data directory. Reloaded when it changes; a bad edit is logged and the previous map stays. Inline `aliases` win over the file.'),
  aliases: aliasMap.default({})
    .describe('Alias address → target address or list of addresses. Targets may be users, other aliases (expanded recursively) or addresses in other domains (forwarded).'),
  catchAll: catchAllMap.default({})
    .describe('Domain → target(s) for recipients of that domain that are neither a user nor an alias.'),
  postmaster: mailAddress.optional()
    .describe('Where postmaster@ (RFC 5321 §4.5.1) and abuse@ (RFC 2142) of every local domain go when no alias or user by that name exists. Unset: the domain\'s catch-all, else the first user the directory lists in that domain, else its first user at all.'),
  plusSeparator: plusSeparator.describe('Subaddress separator(s) (RFC 5233): sales+q4@ matches the alias sales@ when there is no alias sales+q4@. Keep it equal to local-domains\' plusSeparator. \'\' turns tags off.'),
  maxDepth: z.number().int().min(1).max(100).default(10)
    .describe('How many aliases deep an expansion may nest (1: aliases may not point to aliases). Deeper: 451 4.3.0 and an error in the log.'),
  maxTargets: z.number().int().min(1).max(100_000).default(1000)
    .describe('Most delivery targets one recipient may expand to. More: 451 4.3.0 and an error in the log.'),
});

export type AliasesConfig = z.output<typeof AliasesConfig>;
export type AliasMapInput = z.output<typeof aliasMap>;
