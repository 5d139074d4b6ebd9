import { definePlugin } from '../../core/plugin.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import type { SmtpSession } from '../../core/smtp/types.ts';
import { isInternalSession } from '../../core/submit/internal-session.ts';
import { reject, STAGE, tempfail } from '../../core/verdict.ts';
import { fromAddresses } from './from-header.ts';
import { SubmissionLimitsConfig } from './config.ts';
import { take, windowKey, type WindowCount } from './counter.ts';
import { owns, ownership } from './owner.ts';

const windowText = (ms: number) => (ms === 3_600_000 ? 'Hourly' : `Per-${Math.round(ms / 60_000)}-minute`);

export default definePlugin({
  name: 'submission-limits',
  description: 'Outbound abuse protection for authenticated submission: per-user and per-IP message and recipient limits (shared kv), and senders that must belong to the user.',
  config: SubmissionLimitsConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const own = ownership(cfg.owners, cfg.plusSeparator);
    const exempt = new Set(cfg.exempt.map((u) => u.toLowerCase()));
    const counter = (): WindowCount => ({ kv: ctx.kv, prefix: ctx.name, windowMs: cfg.windowMs, now: ctx.clock.now() });
    /** Authenticated users only; the server's own mail is never limited. */
    const applies = (s: SmtpSession): s is SmtpSession & { user: string } => Boolean(s.user) && !isInternalSession(s);

    const limited = async (s: SmtpSession & { user: string }, what: 'messages' | 'recipients') => {
      if (exempt.has(s.user.toLowerCase())) return undefined;
      const c = counter();
      let over: Awaited<ReturnType<typeof take>>;
      try {
        over = await take(c, [
          { kind: `user-${what}`, who: s.user, limit: cfg.perUser[what] },
          { kind: `ip-${what}`, who: s.remoteAddress, limit: cfg.perIp[what] },
        ]);
      } catch (err) {
        ctx.log.error({ event: 'submission.kv_failed', err: (err as Error).message, policy: cfg.kvFailure }, 'limit counters unavailable');
        if (cfg.kvFailure === 'open') return undefined;
        return tempfail(REPLY.tempLocal);
      }
      if (!over) return undefined;
      ctx.metrics.inc('submission_limited_total', { kind: over.kind });
      // One admin line per user (or address) and window, however often the client retries.
      if (await ctx.kv.set(windowKey(c, `logged-${over.kind}`, over.who), '1', { nx: true, ttlMs: cfg.windowMs })) {
        ctx.log.warn({ event: 'submission.limit', user: s.user, ip: s.remoteAddress, limit: over.kind, max: over.limit, windowMs: cfg.windowMs }, 'submission limit reached; further mail is deferred until the window ends');
      }
      return tempfail(withText(REPLY.policyTemp, `${windowText(cfg.windowMs)} ${what === 'messages' ? 'message' : 'recipient'} limit reached, try again later`));
    };

    // FIRST: before any tap that could accept and end the chain.
    hooks.smtp.mailFrom.tap(async (tx, mailFrom, t) => {
      const s = tx.session;
      if (!applies(s)) return undefined;
      if (cfg.senderCheck !== 'off' && !owns(own, s.user, mailFrom.address)) {
        t.log.info({ event: 'submission.forged_sender', user: s.user, from: mailFrom.address }, 'envelope sender not owned by the user');
        ctx.metrics.inc('submission_forged_total', { where: 'envelope' });
        return reject(REPLY.senderNotOwned);
      }
      return limited(s, 'messages');
    }, { stage: STAGE.FIRST });

    hooks.smtp.rcptTo.tap(async (tx) => {
      const s = tx.session;
      return applies(s) ? limited(s, 'recipients') : undefined;
    }, { stage: STAGE.FIRST });

    if (cfg.senderCheck === 'envelope+header') {
      hooks.smtp.message.tap(async (tx, msg, t) => {
        const s = tx.session;
        if (!applies(s)) return undefined;
        const from = (await msg.headers()).filter((h) => h.name.toLowerCase() === 'from').map((h) => h.value);
        const addresses = fromAddresses(from);
        const bad = addresses.length ? addresses.find((a) => !owns(own, s.user, a)) : '(none)';
        if (bad === undefined) return undefined;
        t.log.info({ event: 'submission.forged_sender', user: s.user, from: bad }, 'From header not owned by the user');
        ctx.metrics.inc('submission_forged_total', { where: 'header' });
        // RFC 5321 §4.3.2: 550 is a valid reply to the end of DATA (553 is not).
        return reject(withText(REPLY.policy, 'From header address not owned by the authenticated user'));
      }, { stage: STAGE.CHECK });
    }
  },
});
