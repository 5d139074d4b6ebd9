import { z } from 'zod';
import { ACTIONS } from '../../core/policy/action.ts';

const act = (dflt: (typeof ACTIONS)[number], what: string) => z.enum(ACTIONS).default(dflt)
  .describe(`What to do when rspamd answers "${what}": reject (550 5.7.1), tempfail (451 4.7.1), quarantine (deliver to Junk), tag (headers), ignore (evidence only).`);

export const RspamdConfig = z.strictObject({
  socket: z.string().min(1).optional().describe('The normal worker\'s unix socket (bind_socket = "/path mode=0666"); wins over host and port.'),
  host: z.string().min(1).default('127.0.0.1').describe('The normal worker\'s address (not the controller or the proxy).'),
  port: z.number().int().min(1).max(65535).default(11333).describe('The normal worker\'s port.'),
  password: z.string().min(1).optional().describe('Sent as the Password header, for a worker that requires one. Never logged.'),
  settingsId: z.string().regex(/^[\w.-]{1,64}$/).optional().describe('Sent as Settings-ID: applies one of rspamd\'s named settings (settings.conf) to every scan.'),
  onReject: act('reject', 'reject'),
  onSoftReject: act('tempfail', 'soft reject'),
  onGreylist: act('tempfail', 'greylist'),
  onAddHeader: act('tag', 'add header'),
  onRewriteSubject: act('tag', 'rewrite subject'),
  rejectScore: z.number().optional()
    .describe('When set, replaces rspamd\'s reject decision: a score at or above it is treated as "reject", a "reject" below it (forced ones included) as "add header".'),
  tagScore: z.number().optional()
    .describe('When set, a score at or above it is treated at least as "add header", even when rspamd says "no action".'),
  rewriteSubject: z.boolean().default(true)
    .describe('On "rewrite subject" with a tag or quarantine action, replace the Subject with the one rspamd returns.'),
  milterHeaders: z.boolean().default(false)
    .describe('Apply the header edits rspamd returns in its "milter" block (its milter_headers module). Headers that name the software are skipped.'),
  header: z.string().regex(/^[\x21-\x39\x3b-\x7e]{1,64}$/).default('X-Spam-Result')
    .describe('Header with the verdict on accepted mail: "Yes|No, action=..., score=..., required=..., symbols=...". Any copy arriving from outside is removed.'),
  flagHeader: z.boolean().default(true).describe('Add "X-Spam-Flag: YES" to accepted mail rspamd calls spam (add header and worse).'),
  scoreFactor: z.number().default(1)
    .describe('rspamd\'s score is recorded as evidence times this factor, for spam-score to add (rspamd scores run to 15, spam-score\'s default reject is at 10).'),
  authenticated: z.enum(['scan', 'skip']).default('scan')
    .describe('Mail from authenticated users (submission): scan (rspamd gets the User header and applies its outbound rules) or skip.'),
  maxSize: z.number().int().min(1024).default(20 * 1024 * 1024)
    .describe('Larger messages are not sent to rspamd; they are accepted with evidence "unscanned".'),
  onUnavailable: z.enum(['accept', 'tempfail']).default('accept')
    .describe('rspamd down, slow or answering nonsense: accept with evidence "unavailable" (fail open, logged) or tempfail 451 4.3.0.'),
  scanTimeoutMs: z.number().int().min(100).default(15_000)
    .describe('The whole scan of one message; slower counts as unavailable. Keep it below the plugin entry\'s timeoutMs (its whole time budget).'),
  connectTimeoutMs: z.number().int().min(50).default(2000).describe('Connecting to rspamd.'),
});

export type RspamdConfig = z.output<typeof RspamdConfig>;
