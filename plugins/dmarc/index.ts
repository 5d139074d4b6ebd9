import { isTrustedSession, mailauthResolver, recordAuthResult, registerAuthResults } from '../../core/auth-results/index.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { STAGE } from '../../core/verdict.ts';
import { DKIM } from '../dkim-verify/slot.ts';
import { SPF } from '../spf/slot.ts';
import { DmarcConfig } from './config.ts';
import { evaluateDmarc } from './evaluate.ts';
import { dmarcAction, dmarcReplies, dmarcResInfo, effectivePolicy } from './policy.ts';
import { DMARC } from './slot.ts';

export { DMARC } from './slot.ts';
export type { DmarcOutcome, DmarcPolicy } from './evaluate.ts';

/**
 * DMARC (RFC 7489) at smtp.message, from the SPF and DKIM results of the plugins it depends on:
 * alignment, the domain's policy (p/sp/pct), enforcement per config, evidence and the
 * Authentication-Results field.
 */
export default definePlugin({
  name: 'dmarc',
  description: 'Evaluate DMARC (RFC 7489) from the SPF and DKIM results and enforce the domain\'s policy (reject, quarantine into Junk) per config.',
  config: DmarcConfig,
  dependencies: ['spf', 'dkim-verify'],
  register(hooks, ctx) {
    const cfg = ctx.config;
    const resolver = mailauthResolver(ctx.dns);

    hooks.smtp.message.tap(async (tx, _m, t) => {
      if (isTrustedSession(tx.session)) return undefined;
      const dkim = tx.slots.get(DKIM);
      if (!dkim) return undefined;
      const spf = tx.slots.get(SPF);
      const outcome = await evaluateDmarc({
        headerFrom: dkim.headerFrom,
        // RFC 7489 §3.1.2: the SPF identifier is the MAIL FROM domain, or HELO for the null sender.
        ...(spf?.result === 'pass' ? { spfPassDomain: spf.domain } : {}),
        dkimPassDomains: dkim.signatures.filter((s) => s.result === 'pass').map((s) => s.domain),
        resolver,
      });
      const applied = outcome.result === 'fail' ? effectivePolicy(outcome, cfg.applyPct, Math.random() * 100) : undefined;
      tx.slots.set(DMARC, { ...outcome, ...(applied ? { applied } : {}) });
      recordAuthResult(tx, dmarcResInfo(outcome, applied));
      t.log.debug({ event: 'dmarc.result', result: outcome.result, from: outcome.fromDomain, policy: outcome.policy, applied }, 'DMARC evaluated');
      const action = dmarcAction(cfg, outcome, applied ?? 'none');
      return applyAction(tx, action, {
        plugin: 'dmarc',
        check: 'policy',
        result: outcome.result,
        score: cfg.scores[outcome.result],
        reason: `header.from=${outcome.fromDomain}${outcome.policy ? ` p=${applied ?? outcome.policy}` : ''}${outcome.comment ? ` ${outcome.comment}` : ''}`,
      }, dmarcReplies(outcome, applied ?? 'none'));
    }, { stage: STAGE.CHECK });

    registerAuthResults(hooks, ctx.server.hostname);
  },
});
