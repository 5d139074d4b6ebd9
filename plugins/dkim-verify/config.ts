import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

const score = (dflt: number, what: string) => z.number().default(dflt).describe(`Score recorded with the evidence for ${what}.`);

export const DkimVerifyConfig = z.strictObject({
  failAction: actionSchema('ignore')
    .describe('What to do when the message is signed but no signature verifies and at least one fails (RFC 6376 §6.3 says to treat it as unsigned, so the default only records it): reject (550 5.7.20), tempfail, quarantine, tag or ignore.'),
  temperrorAction: actionSchema('ignore')
    .describe('What to do when no signature verifies and a key lookup failed temporarily (DNS): tempfail (451 4.7.20) or ignore (accept, result recorded).'),
  minBitLength: z.number().int().min(512).max(8192).default(1024)
    .describe('Smallest RSA key accepted; signatures with shorter keys get result `policy` (RFC 8301 §3.2: verifiers must not accept keys under 1024 bits).'),
  maxSignatures: z.number().int().min(1).max(100).default(10)
    .describe('Most DKIM-Signature fields verified per message (each costs a DNS lookup); a message with more gets dkim=permerror and none are checked.'),
  scores: z.strictObject({
    pass: score(0, 'a passing signature'),
    fail: score(1, 'a failing signature'),
    neutral: score(0, 'a signature that could not be checked (no key, bad key record)'),
    none: score(0, 'an unsigned message'),
    policy: score(0, 'a signature refused by local policy (weak key)'),
    temperror: score(0, 'a signature whose key lookup failed temporarily'),
    permerror: score(1, 'a message with too many signatures'),
  }).prefault({}).describe('Score per signature result, recorded with the evidence (for a scoring plugin).'),
});

export type DkimVerifyConfig = z.output<typeof DkimVerifyConfig>;
