import { readFileSync } from 'node:fs';
import { ensureAuthResults, isTrustedSession, mailauthResolver, recordAuthResult, registerAuthResults } from '../../core/auth-results/index.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { STAGE } from '../../core/verdict.ts';
import { DKIM } from '../dkim-verify/slot.ts';
import { ArcConfig } from './config.ts';
import { isForwarded } from './forwarding.ts';
import { composeEdited } from '../../core/queue/compose.ts';
import { arcSet, loadSealKey } from './seal.ts';
import { ARC } from './slot.ts';
import { verifyArc } from './verify.ts';

export { ARC } from './slot.ts';
export type { ArcOutcome } from './verify.ts';

/**
 * ARC (RFC 8617): validates the arriving chain at smtp.message (from the sets dkim-verify parsed
 * on its pass over the message), and seals mail forwarded to external addresses at smtp.queue,
 * when every header edit is final.
 */
export default definePlugin({
  name: 'arc',
  description: 'Validate arriving ARC chains (RFC 8617) and add an ARC set to mail forwarded to external addresses.',
  config: ArcConfig,
  dependencies: ['dkim-verify'],
  register(hooks, ctx) {
    const cfg = ctx.config;
    const resolver = mailauthResolver(ctx.dns);
    const hostname = ctx.server.hostname;
    const key = cfg.seal ? loadSealKey(cfg.seal.domain, cfg.seal.selector, readFileSync(ctx.resolvePath(cfg.seal.keyFile), 'utf8')) : undefined;

    hooks.smtp.message.tap(async (tx, _m, t) => {
      if (isTrustedSession(tx.session)) return undefined;
      const dkim = tx.slots.get(DKIM);
      if (!dkim) return undefined;
      const outcome = await verifyArc(dkim.arcData, { resolver, minBitLength: cfg.minBitLength });
      tx.slots.set(ARC, outcome);
      recordAuthResult(tx, { method: 'arc', result: outcome.result, ...(outcome.comment ? { comment: outcome.comment } : {}) });
      t.log.debug({ event: 'arc.result', result: outcome.result, instance: outcome.instance }, 'ARC chain checked');
      const finding = { plugin: 'arc', check: 'chain', result: outcome.result, ...(outcome.comment ? { reason: outcome.comment } : {}) };
      if (outcome.result !== 'fail') {
        tx.evidence.push(finding);
        return undefined;
      }
      // RFC 7372 has no ARC code; X.7.29 is "ARC validation failure" in the IANA registry (RFC 8617 §7.2.2).
      const text = `ARC validation failed${outcome.comment ? ` (${outcome.comment})` : ''}`;
      return applyAction(tx, cfg.failAction, finding, { reject: { code: 550, enhanced: '5.7.29', text }, tempfail: { code: 451, enhanced: '4.7.29', text: `${text}, try again later` } });
    }, { stage: STAGE.CHECK });

    if (key) {
      hooks.smtp.queue.tap(async (tx, _info, t) => {
        if (!tx.message || !isForwarded(tx)) return undefined;
        const chain = tx.slots.get(ARC) ?? { result: 'none' as const, instance: 0, sealable: true };
        if (!chain.sealable || chain.instance >= 50) {
          t.log.info({ event: 'arc.not-sealed', result: chain.result, instance: chain.instance }, 'ARC chain cannot take another set');
          return undefined;
        }
        const authResults = (await ensureAuthResults(tx, hostname)) || `${hostname}; none`;
        try {
          const fields = await arcSet(composeEdited(tx.headerEdits, tx.message.stream()), key, authResults, chain.result, new Date(ctx.clock.now()));
          for (const f of fields) tx.addHeader(f.name, f.value);
          t.log.debug({ event: 'arc.sealed', instance: chain.instance + 1, cv: chain.result }, 'ARC set added');
        } catch (err) {
          // A seal is an extra for the next hop: the mail still goes, unsealed, rather than being deferred.
          t.log.warn({ event: 'arc.seal-failed', err: (err as Error).message }, 'ARC sealing failed; forwarding without a new ARC set');
        }
        return undefined;
      }, { stage: STAGE.FIRST });
    }

    registerAuthResults(hooks, hostname);
  },
});
