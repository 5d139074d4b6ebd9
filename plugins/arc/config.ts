import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

export const ArcSealConfig = z.strictObject({
  domain: z.string().regex(/^[A-Za-z0-9.-]+$/, 'a domain name').describe('Signing domain (d=) of the ARC sets this server adds; the public key is published at <selector>._domainkey.<domain>.'),
  selector: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a DKIM selector').describe('Selector (s=) of the sealing key.'),
  keyFile: z.string().min(1).describe('PEM private RSA key (at least 1024 bits; 2048 recommended), relative to the data directory. Sets are signed with rsa-sha256.'),
});

export const ArcConfig = z.strictObject({
  failAction: actionSchema('ignore')
    .describe('What to do when an arriving ARC chain does not validate (arc=fail): reject (550 5.7.29), tempfail, quarantine, tag or ignore (recorded only; a broken chain is treated like no chain).'),
  minBitLength: z.number().int().min(512).max(8192).default(1024)
    .describe('Smallest RSA key accepted in an ARC chain.'),
  seal: ArcSealConfig.optional()
    .describe('Add an ARC set (ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results; RFC 8617 §5.1) to mail this server forwards to external addresses (aliases with remote targets). Unset: verify only.'),
});

export type ArcConfig = z.output<typeof ArcConfig>;
