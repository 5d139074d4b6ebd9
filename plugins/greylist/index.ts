import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import type { SmtpTransaction } from '../../core/smtp/types.ts';
import { STAGE, tempfail } from '../../core/verdict.ts';
import { DNSWL_SLOT } from '../dnsbl/slots.ts';
import { GreylistConfig } from './config.ts';
import { Greylist } from './greylist.ts';
import { compileAllowLists, skipReason } from './policy.ts';
import { clientNetwork } from './triplet.ts';

const CHECK = 'triplet';

/** Evidence other plugins (spam-score) read; one `passed`/`skipped` per transaction is enough. */
function recordOnce(tx: SmtpTransaction, plugin: string, result: string, reason: string): void {
  if (tx.evidence.some((e) => e.plugin === plugin && e.result === result)) return;
  tx.evidence.push({ plugin, check: CHECK, result, reason });
}

/**
 * Greylisting at RCPT TO (RFC 6647): the first attempt of an unknown (network, sender, recipient)
 * triplet gets 451 4.7.1; a retry after the delay passes, and the triplet is remembered.
 */
export default definePlugin({
  name: 'greylist',
  description: 'Greylisting (RFC 6647): a new client network, sender and recipient triplet is asked to retry later; state in the shared kv (Redis when configured).',
  config: GreylistConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const lists = compileAllowLists(cfg);
    const grey = new Greylist(ctx.kv, ctx.clock, cfg);
    const plugin = ctx.name;

    hooks.smtp.rcptTo.tap(async (tx, rcpt, t) => {
      const s = tx.session;
      const skip = skipReason(lists, {
        remoteAddress: s.remoteAddress, user: s.user, relayAllowed: s.relay.allowed, clientHostname: s.clientHostname,
        sender: tx.mailFrom.address, recipient: rcpt.address,
        // Set at connect by the dnsbl plugin when the client is on a DNS allow list (DNSWL).
        dnswl: s.slots.get(DNSWL_SLOT)?.zone,
      });
      if (skip) {
        recordOnce(tx, plugin, 'skipped', skip);
        return undefined;
      }
      const network = clientNetwork(s.remoteAddress, cfg.ipv4Prefix, cfg.ipv6Prefix);
      let r;
      try {
        r = await grey.check(network, tx.mailFrom.address, rcpt.address);
      } catch (err) {
        t.log.warn({ event: 'greylist.kv_failed', error: (err as Error).message, onKvFailure: cfg.onKvFailure }, 'greylist state unavailable');
        if (cfg.onKvFailure === 'tempfail') return tempfail(REPLY.tempLocal);
        recordOnce(tx, plugin, 'skipped', 'state unavailable');
        return undefined;
      }
      if (r.kind === 'allowed') {
        recordOnce(tx, plugin, 'skipped', r.reason);
        return undefined;
      }
      if (r.kind === 'passed') {
        recordOnce(tx, plugin, 'passed', r.reason);
        return undefined;
      }
      const wait = Math.max(1, Math.ceil(r.retryInMs / 1000));
      t.log.info({ event: 'greylist.greylisted', network, rcpt: rcpt.address, first: r.first, retryInS: wait }, 'greylisted');
      // RFC 6647 §4: a 4xx saying the client should try again later.
      const reply = withText(REPLY.policyTemp, `Greylisted, please try again later (in about ${wait} seconds)`);
      return applyAction(tx, cfg.action, { plugin, check: CHECK, result: 'greylisted', reason: network }, { tempfail: reply, reject: REPLY.policy });
    }, { stage: STAGE.CHECK });
  },
});
