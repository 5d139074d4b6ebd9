import { defineSlot } from '../../core/slots.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import type { Evidence } from '../../core/smtp/types.ts';
import { STAGE, tempfail, type Reject, type Tempfail } from '../../core/verdict.ts';
import { RateLimitConfig, type WindowLimit } from './config.ts';
import { Counters } from './counter.ts';
import { clientId, compileSkipLists, networkSkipped, overText, repliesFor, senderSkipped, type WindowName } from './limits.ts';

/** Set on a session whose open connection was counted, so disconnect uncounts exactly once. */
/**
 * Before everything that costs DNS lookups (dnsbl and helo-rdns start theirs at STAGE.ALLOW and just
 * before it; spf at CHECK): a flood is refused first. After relay-acl (STAGE.FIRST), whose verdict
 * the skip options read.
 */
const LIMIT_STAGE = STAGE.ALLOW - 10;

const COUNTED = defineSlot<{ id: string; done: boolean }>('rate-limit.counted');

/**
 * Rate limits on connections, messages and recipients, counted in ctx.kv so that every server
 * sharing a Redis counts together. Each limit has its own window and action.
 */
export default definePlugin({
  name: 'rate-limit',
  description: 'Limits connections, messages and recipients per client address, sender and recipient per window; counters shared across servers through the kv (Redis).',
  config: RateLimitConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const plugin = ctx.name;
    const skips = compileSkipLists(cfg);
    const counters = new Counters(ctx.kv, ctx.clock);

    /** Count in every configured window; the first limit exceeded answers (or records) per its action. */
    async function check(into: { readonly evidence: Evidence[] }, items: ReadonlyArray<readonly [WindowName, string]>): Promise<Reject | Tempfail | undefined> {
      for (const [name, id] of items) {
        const lim: WindowLimit | undefined = cfg[name];
        if (!lim) continue;
        const n = await counters.hit(name, id, lim.windowMs);
        if (n <= lim.limit) continue;
        const v = applyAction(into, lim.action, { plugin, check: name, result: 'exceeded', reason: overText(n, lim.limit, lim.windowMs) }, repliesFor(name));
        if (v) return v;
      }
      return undefined;
    }

    const kvFailed = (err: unknown, log: { warn: (o: object, m: string) => void }, atConnect: boolean): Tempfail | undefined => {
      log.warn({ event: 'rate-limit.kv_failed', error: (err as Error).message, onKvFailure: cfg.onKvFailure }, 'rate counters unavailable');
      if (cfg.onKvFailure !== 'tempfail') return undefined;
      return atConnect ? tempfail({ ...REPLY.tempLocal, code: 421 }, true) : tempfail(REPLY.tempLocal);
    };

    hooks.smtp.connect.tap(async (s, _p, t) => {
      if ((cfg.skipRelayClients && s.relay.allowed) || networkSkipped(skips, s.remoteAddress)) return undefined;
      const id = clientId(s.remoteAddress);
      try {
        const conc = cfg.concurrentConnectionsPerIp;
        if (conc) {
          const open = await counters.open(id, conc.staleAfterMs);
          s.slots.set(COUNTED, { id, done: false });
          if (open > conc.limit) {
            const v = applyAction(s, conc.action, { plugin, check: 'concurrentConnectionsPerIp', result: 'exceeded', reason: overText(open, conc.limit) }, repliesFor('concurrentConnectionsPerIp'));
            if (v) return { ...v, disconnect: true };
          }
        }
        const v = await check(s, [['connectionsPerIp', id]]);
        return v ? { ...v, disconnect: true } : undefined;
      } catch (err) {
        // A gauge that was not raised is never lowered: the marker is set only after open().
        return kvFailed(err, t.log, true);
      }
    }, { stage: LIMIT_STAGE });

    hooks.smtp.disconnect.tap(async (s, _p, t) => {
      const marker = s.slots.get(COUNTED);
      if (!marker || marker.done) return;
      marker.done = true;
      await counters.close(marker.id).catch((err: Error) => t.log.warn({ event: 'rate-limit.kv_failed', error: err.message }, 'could not release the connection count'));
    });

    const skipMessage = (s: { relay: { allowed: boolean }; user?: string | undefined; remoteAddress: string }, sender: string) =>
      (cfg.skipRelayClients && s.relay.allowed) || (cfg.skipAuthenticated && Boolean(s.user)) || networkSkipped(skips, s.remoteAddress) || senderSkipped(skips, sender);

    hooks.smtp.mailFrom.tap(async (tx, mail, t) => {
      if (skipMessage(tx.session, mail.address)) return undefined;
      try {
        return await check(tx, [['messagesPerIp', clientId(tx.session.remoteAddress)], ['messagesPerSender', mail.address.toLowerCase()]]);
      } catch (err) {
        return kvFailed(err, t.log, false);
      }
    }, { stage: LIMIT_STAGE });

    hooks.smtp.rcptTo.tap(async (tx, rcpt, t) => {
      if (skipMessage(tx.session, tx.mailFrom.address)) return undefined;
      try {
        return await check(tx, [
          ['recipientsPerIp', clientId(tx.session.remoteAddress)],
          ['recipientsPerSender', tx.mailFrom.address.toLowerCase()],
          ['messagesPerRecipient', rcpt.address.toLowerCase()],
        ]);
      } catch (err) {
        return kvFailed(err, t.log, false);
      }
    }, { stage: LIMIT_STAGE });
  },
});
