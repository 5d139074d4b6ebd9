/** What DKIM outcomes mean for the transaction: pure, no I/O. */
import type { ResInfo } from '../../core/auth-results/format.ts';
import type { Action } from '../../core/policy/action.ts';
import type { Reply } from '../../core/verdict.ts';
import type { DkimVerifyConfig } from './config.ts';
import type { DkimOutcome, DkimSignatureOutcome } from './verify.ts';

/** The message-level finding the action is about: pass wins, then temperror, then fail. */
export function overall(o: DkimOutcome): 'pass' | 'temperror' | 'fail' | 'none' | 'other' {
  const rs = o.signatures.map((s) => s.result);
  if (!rs.length) return 'none';
  if (rs.includes('pass')) return 'pass';
  if (rs.includes('temperror')) return 'temperror';
  if (rs.includes('fail')) return 'fail';
  return 'other';
}

export function dkimAction(cfg: DkimVerifyConfig, o: DkimOutcome): Action {
  const v = overall(o);
  return v === 'fail' ? cfg.failAction : v === 'temperror' ? cfg.temperrorAction : 'ignore';
}

/** RFC 7372 §3.1: X.7.20 "No passing DKIM signature found". */
export function dkimReplies(o: DkimOutcome): { reject: Reply; tempfail: Reply } {
  const domains = [...new Set(o.signatures.map((s) => s.domain))].slice(0, 3).join(', ');
  const text = `No passing DKIM signature found (${domains})`;
  return { reject: { code: 550, enhanced: '5.7.20', text }, tempfail: { code: 451, enhanced: '4.7.20', text: `${text}, try again later` } };
}

/** RFC 8601 §2.7.1 (header.d, header.i), RFC 6008 (header.b), header.s and header.a. */
export function signatureResInfo(s: DkimSignatureOutcome): ResInfo {
  return {
    method: 'dkim',
    result: s.result,
    ...(s.comment ? { comment: s.comment } : s.underSized ? { comment: 'body partially signed (l=)' } : {}),
    props: [['header', 'd', s.domain], ['header', 's', s.selector], ['header', 'a', s.algorithm], ['header', 'b', s.bPrefix]],
  };
}

export function dkimResInfos(o: DkimOutcome): ResInfo[] {
  if (!o.signatures.length) return [{ method: 'dkim', result: 'none', comment: 'message not signed' }];
  return o.signatures.map(signatureResInfo);
}
