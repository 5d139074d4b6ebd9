import { isTrustedSession, mailauthResolver, recordAuthResult, registerAuthResults } from '../../core/auth-results/index.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { STAGE } from '../../core/verdict.ts';
import { DkimVerifyConfig } from './config.ts';
import { dkimAction, dkimReplies, dkimResInfos, overall } from './policy.ts';
import { fromAddresses } from './from.ts';
import { DKIM } from './slot.ts';
import { unsignedOutcome, verifyDkim, type DkimOutcome } from './verify.ts';

export { DKIM } from './slot.ts';
export type { DkimOutcome, DkimSignatureOutcome, DkimResult } from './verify.ts';

/**
 * DKIM (RFC 6376) verification of every signature at smtp.message, from the spooled message
 * stream: results to the `DKIM` slot, one evidence entry per signature, the
 * Authentication-Results field.
 */
export default definePlugin({
  name: 'dkim-verify',
  description: 'Verify every DKIM signature (RFC 6376) of arriving mail; record the results (slot, evidence, Authentication-Results).',
  config: DkimVerifyConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const resolver = mailauthResolver(ctx.dns);

    hooks.smtp.message.tap(async (tx, message, t) => {
      if (isTrustedSession(tx.session)) return undefined;
      const headers = await message.headers();
      const count = headers.filter((h) => h.name.toLowerCase() === 'dkim-signature').length;
      if (count > cfg.maxSignatures) {
        const reason = `${count} DKIM-Signature fields, more than ${cfg.maxSignatures}`;
        // Nothing verified, but DMARC still needs the From domain: it then rests on SPF alone.
        tx.slots.set(DKIM, { signatures: [], headerFrom: fromAddresses(headers), arcData: undefined });
        recordAuthResult(tx, { method: 'dkim', result: 'permerror', comment: 'too many signatures' });
        tx.evidence.push({ plugin: 'dkim-verify', check: 'signatures', result: 'permerror', score: cfg.scores.permerror, reason });
        return undefined;
      }
      // Unsigned mail (the common case) needs only its header section; signed mail goes to mailauth.
      const outcome: DkimOutcome = await unsignedOutcome(message.stream())
        ?? await verifyDkim(message.stream(), { resolver, sender: tx.mailFrom.address, minBitLength: cfg.minBitLength });
      tx.slots.set(DKIM, outcome);
      for (const r of dkimResInfos(outcome)) recordAuthResult(tx, r);
      for (const s of outcome.signatures) {
        tx.evidence.push({ plugin: 'dkim-verify', check: 'signature', result: s.result, score: cfg.scores[s.result], reason: `d=${s.domain} s=${s.selector}${s.comment ? `: ${s.comment}` : ''}` });
      }
      const verdict = overall(outcome);
      t.log.debug({ event: 'dkim.result', result: verdict, signatures: outcome.signatures.map((s) => `${s.domain}/${s.selector} ${s.result}`) }, 'DKIM verified');
      if (verdict === 'none') tx.evidence.push({ plugin: 'dkim-verify', check: 'signature', result: 'none', score: cfg.scores.none });
      if (verdict !== 'fail' && verdict !== 'temperror') return undefined;
      return applyAction(tx, dkimAction(cfg, outcome), { plugin: 'dkim-verify', check: 'message', result: verdict === 'fail' ? 'fail' : 'temperror' }, dkimReplies(outcome));
    }, { stage: STAGE.CHECK });

    registerAuthResults(hooks, ctx.server.hostname);
  },
});
