import { isTrustedSession, mailauthResolver, recordAuthResult, registerAuthResults } from '../../core/auth-results/index.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { STAGE } from '../../core/verdict.ts';
import { checkSpf } from './check.ts';
import { SpfConfig } from './config.ts';
import { spfAction, spfReplies, spfResInfo } from './policy.ts';
import { SPF } from './slot.ts';

export { SPF } from './slot.ts';
export type { SpfOutcome, SpfResult } from './check.ts';

/**
 * SPF (RFC 7208) at MAIL FROM: the result goes to the `SPF` slot, the evidence and the
 * Authentication-Results field; the configured action per result may refuse the sender.
 */
export default definePlugin({
  name: 'spf',
  description: 'Check SPF (RFC 7208) at MAIL FROM; record the result (slot, evidence, Authentication-Results) and act per result.',
  config: SpfConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const resolver = mailauthResolver(ctx.dns);

    hooks.smtp.mailFrom.tap(async (tx, mf, t) => {
      if (isTrustedSession(tx.session)) return undefined;
      const outcome = await checkSpf({
        ip: tx.session.remoteAddress,
        ...(tx.session.helo ? { helo: tx.session.helo.host } : {}),
        sender: mf.address,
        hostname: ctx.server.hostname,
        resolver,
      });
      tx.slots.set(SPF, outcome);
      recordAuthResult(tx, spfResInfo(outcome));
      t.log.debug({ event: 'spf.result', result: outcome.result, identity: outcome.identity, domain: outcome.domain }, 'SPF checked');
      return applyAction(tx, spfAction(cfg, outcome), {
        plugin: 'spf',
        check: outcome.identity,
        result: outcome.result,
        score: cfg.scores[outcome.result],
        ...(outcome.comment ? { reason: outcome.comment } : {}),
      }, spfReplies(outcome));
    }, { stage: STAGE.CHECK });

    registerAuthResults(hooks, ctx.server.hostname);
  },
});
