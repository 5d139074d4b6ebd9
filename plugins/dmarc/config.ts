import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

const score = (dflt: number, what: string) => z.number().default(dflt).describe(`Score recorded with the evidence for ${what}.`);

export const DmarcConfig = z.strictObject({
  rejectAction: actionSchema('reject')
    .describe('What to do with mail that fails DMARC when the domain publishes p=reject (or sp=reject for a subdomain): reject (550 5.7.1 naming the policy), quarantine (Junk), tag (only a header) or ignore.'),
  quarantineAction: actionSchema('quarantine')
    .describe('What to do with mail that fails DMARC when the domain publishes p=quarantine: quarantine (deliver to Junk), reject, tag or ignore.'),
  noneAction: actionSchema('ignore')
    .describe('What to do with mail that fails DMARC when the domain publishes p=none (monitoring only): usually ignore (recorded) or tag.'),
  temperrorAction: actionSchema('ignore')
    .describe('What to do when the DMARC record could not be fetched (DNS failure): tempfail (451 4.7.1, the sender retries) or ignore (accept, recorded).'),
  permerrorAction: actionSchema('ignore')
    .describe('What to do when the From field cannot be evaluated (missing, or several addresses; RFC 7489 §6.6.1): reject, quarantine, tag or ignore.'),
  applyPct: z.boolean().default(true)
    .describe('Honour the record\'s pct= (RFC 7489 §6.6.4): a failing message outside the sampled percentage gets the next milder policy (reject → quarantine → none).'),
  scores: z.strictObject({
    pass: score(0, 'pass'),
    fail: score(3, 'fail'),
    none: score(0, 'none (no DMARC record)'),
    temperror: score(0, 'temperror'),
    permerror: score(1, 'permerror'),
  }).prefault({}).describe('Score per DMARC result, recorded with the evidence (for a scoring plugin).'),
});

export type DmarcConfig = z.output<typeof DmarcConfig>;
