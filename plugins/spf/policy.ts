/** What an SPF outcome means for the transaction: pure, no I/O. */
import type { Action } from '../../core/policy/action.ts';
import type { ResInfo } from '../../core/auth-results/format.ts';
import type { Reply } from '../../core/verdict.ts';
import type { SpfConfig } from './config.ts';
import type { SpfOutcome } from './check.ts';

export function spfAction(cfg: SpfConfig, o: SpfOutcome): Action {
  switch (o.result) {
    case 'fail': return cfg.failAction;
    case 'softfail': return cfg.softfailAction;
    case 'permerror': return cfg.permerrorAction;
    case 'temperror': return cfg.temperrorAction;
    default: return 'ignore';
  }
}

/** RFC 7372 §3.2: X.7.23 "SPF validation failed", X.7.24 "SPF validation error". */
export function spfReplies(o: SpfOutcome): { reject: Reply; tempfail: Reply } {
  if (o.result === 'fail' || o.result === 'softfail') {
    const text = `SPF validation failed: ${o.domain} does not permit ${o.clientIp} to send its mail (RFC 7208)`;
    return { reject: { code: 550, enhanced: '5.7.23', text }, tempfail: { code: 451, enhanced: '4.7.23', text: `${text}, try again later` } };
  }
  const why = o.result === 'temperror' ? `SPF check of ${o.domain} failed temporarily (DNS)` : `SPF record of ${o.domain} is invalid`;
  return {
    reject: { code: 550, enhanced: '5.7.24', text: `SPF validation error: ${why}` },
    tempfail: { code: 451, enhanced: '4.7.24', text: `SPF validation error: ${why}, try again later` },
  };
}

/** RFC 8601 §2.7.2: spf with smtp.mailfrom, or smtp.helo for the HELO identity. */
export function spfResInfo(o: SpfOutcome): ResInfo {
  return {
    method: 'spf',
    result: o.result,
    ...(o.comment ? { comment: o.comment } : {}),
    props: o.identity === 'mailfrom' ? [['smtp', 'mailfrom', o.sender]] : [['smtp', 'helo', o.helo ?? o.domain]],
  };
}
