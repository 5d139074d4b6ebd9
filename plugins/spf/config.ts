import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

const score = (dflt: number, what: string) => z.number().default(dflt).describe(`Score recorded with the evidence for ${what}.`);

export const SpfConfig = z.strictObject({
  failAction: actionSchema('ignore')
    .describe('What to do on SPF fail (the domain says this client may not send its mail, `-all`): reject (550 5.7.23), tempfail, quarantine (Junk), tag or ignore (recorded only; DMARC acts on it).'),
  softfailAction: actionSchema('ignore')
    .describe('What to do on SPF softfail (`~all`: probably not allowed). Same choices as failAction.'),
  permerrorAction: actionSchema('ignore')
    .describe('What to do when the domain\'s SPF record is broken (permerror: syntax, too many lookups): reject (550 5.7.24), tempfail, quarantine, tag or ignore.'),
  temperrorAction: actionSchema('ignore')
    .describe('What to do when DNS failed while checking (temperror: timeout, SERVFAIL): tempfail (451 4.7.24, the sender retries) or ignore (accept, result recorded). Default: no action, evidence only.'),
  scores: z.strictObject({
    pass: score(0, 'pass'),
    fail: score(3, 'fail'),
    softfail: score(1, 'softfail'),
    neutral: score(0, 'neutral'),
    none: score(0, 'none'),
    temperror: score(0, 'temperror'),
    permerror: score(1, 'permerror'),
  }).prefault({}).describe('Score per SPF result, recorded with the evidence (for a scoring plugin).'),
});

export type SpfConfig = z.output<typeof SpfConfig>;
