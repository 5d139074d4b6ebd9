/** What a DMARC outcome means for the transaction: pure, no I/O. */
import type { ResInfo } from '../../core/auth-results/format.ts';
import type { Action } from '../../core/policy/action.ts';
import type { Reply } from '../../core/verdict.ts';
import type { DmarcConfig } from './config.ts';
import type { DmarcOutcome, DmarcPolicy } from './evaluate.ts';

const MILDER: Record<DmarcPolicy, DmarcPolicy> = { reject: 'quarantine', quarantine: 'none', none: 'none' };

/**
 * The policy to apply to a failing message. RFC 7489 §6.6.4: with pct < 100, only that share of
 * failing mail gets the policy, the rest the next milder one. `sample` is uniform in [0, 100).
 */
export function effectivePolicy(o: DmarcOutcome, applyPct: boolean, sample: number): DmarcPolicy {
  const policy = o.policy ?? 'none';
  const pct = o.pct ?? 100;
  if (!applyPct || pct >= 100 || sample < pct) return policy;
  return MILDER[policy];
}

export function dmarcAction(cfg: DmarcConfig, o: DmarcOutcome, policy: DmarcPolicy): Action {
  switch (o.result) {
    case 'fail': return policy === 'reject' ? cfg.rejectAction : policy === 'quarantine' ? cfg.quarantineAction : cfg.noneAction;
    case 'temperror': return cfg.temperrorAction;
    case 'permerror': return cfg.permerrorAction;
    default: return 'ignore';
  }
}

export function dmarcReplies(o: DmarcOutcome, policy: DmarcPolicy): { reject: Reply; tempfail: Reply } {
  if (o.result === 'temperror') {
    const text = `DMARC policy of ${o.fromDomain} could not be fetched, try again later`;
    return { reject: { code: 550, enhanced: '5.7.1', text: `DMARC policy of ${o.fromDomain} could not be fetched` }, tempfail: { code: 451, enhanced: '4.7.1', text } };
  }
  if (o.result === 'permerror') {
    const text = `Message refused: its From field cannot be checked against DMARC (${o.comment ?? 'invalid'})`;
    return { reject: { code: 550, enhanced: '5.7.1', text }, tempfail: { code: 451, enhanced: '4.7.1', text: `${text}, try again later` } };
  }
  const text = `Message rejected: it fails the DMARC policy of ${o.fromDomain} (p=${policy})`;
  return { reject: { code: 550, enhanced: '5.7.1', text }, tempfail: { code: 451, enhanced: '4.7.1', text: `${text}, try again later` } };
}

/** RFC 7489 §11.2: dmarc with header.from; the policy in a comment, as is common. */
export function dmarcResInfo(o: DmarcOutcome, policy: DmarcPolicy | undefined): ResInfo {
  const notes = [
    o.p ? `p=${o.p.toUpperCase()}` : '',
    o.sp && o.sp !== o.p ? `sp=${o.sp.toUpperCase()}` : '',
    o.pct !== undefined && o.pct < 100 ? `pct=${o.pct}` : '',
    o.result === 'fail' && policy && policy !== o.policy ? `applied=${policy.toUpperCase()}` : '',
    o.comment ?? '',
  ].filter(Boolean);
  return {
    method: 'dmarc',
    result: o.result,
    ...(notes.length ? { comment: notes.join(' ') } : {}),
    props: [['header', 'from', o.fromDomain]],
  };
}
