import { z } from 'zod';
import { actionSchema } from '../../core/policy/action.ts';

export const SpamassassinConfig = z.strictObject({
  socket: z.string().min(1).optional().describe('spamd\'s unix socket (--socketpath or --listen=/path); wins over host and port.'),
  host: z.string().min(1).default('127.0.0.1').describe('spamd\'s address (--listen).'),
  port: z.number().int().min(1).max(65535).default(783).describe('spamd\'s port.'),
  user: z.string().regex(/^[\x21-\x7e]{1,128}$/).optional().describe('Sent as the User header: whose preferences spamd applies (its per-user or virtual config). Default: none, spamd\'s own user.'),
  action: actionSchema('tag'),
  spamScore: z.number().optional()
    .describe('When set, replaces spamd\'s required score: a score at or above it is spam, below it is not, whatever spamd\'s "Spam:" says.'),
  rejectScore: z.number().optional()
    .describe('When set, a score at or above it is refused 550 5.7.1 whatever `action` says (e.g. tag at 5, reject at 15).'),
  header: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,64}$/).default('X-Spam-Status')
    .describe('Header with the verdict on accepted mail, in SpamAssassin\'s form: "Yes, score=15.2 required=5.0 tests=A,B". Any copy arriving from outside is removed.'),
  flagHeader: z.boolean().default(true).describe('Add "X-Spam-Flag: YES" to accepted spam.'),
  scoreFactor: z.number().default(1)
    .describe('spamd\'s score is recorded as evidence times this factor, for spam-score to add.'),
  authenticated: z.enum(['scan', 'skip']).default('scan')
    .describe('Mail from authenticated users (submission): scan it too (outbound spam from a hijacked account) or skip.'),
  maxSize: z.number().int().min(1024).default(512_000)
    .describe('Larger messages are not sent to spamd; they are accepted with evidence "unscanned". 500 KB, like spamc\'s default.'),
  onUnavailable: z.enum(['accept', 'tempfail']).default('accept')
    .describe('spamd down, slow or answering nonsense: accept with evidence "unavailable" (fail open, logged) or tempfail 451 4.3.0.'),
  scanTimeoutMs: z.number().int().min(100).default(20_000)
    .describe('The whole scan of one message; slower counts as unavailable. Keep it below the plugin entry\'s timeoutMs (its whole time budget).'),
  connectTimeoutMs: z.number().int().min(50).default(2000).describe('Connecting to spamd.'),
});

export type SpamassassinConfig = z.output<typeof SpamassassinConfig>;
