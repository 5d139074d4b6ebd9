/**
 * From rspamd's reply to what this server does: the effective rspamd action (after the optional
 * score overrides), the configured Pochta action for it, and the header texts. Pure.
 */
import type { Action } from '../../core/policy/action.ts';
import type { RspamdReply } from './client.ts';
import type { RspamdConfig } from './config.ts';

/** rspamd's actions (rspamd.com/doc/configuration/metrics.html), most severe first. */
export const RSPAMD_ACTIONS = ['reject', 'soft reject', 'rewrite subject', 'add header', 'greylist', 'no action'] as const;
export type RspamdAction = (typeof RSPAMD_ACTIONS)[number];

export interface Decision {
  readonly rspamdAction: RspamdAction;
  /** Evidence result: the rspamd action with dashes ("add-header"). */
  readonly result: string;
  /** What Pochta does; undefined for "no action". */
  readonly action: Action | undefined;
  /** add header and worse count as spam for the flag header; greylist and soft reject do not. */
  readonly spam: boolean;
  readonly score: number;
  readonly required: number;
  /** Symbols with a non-zero score, highest first: "GTUBE(15.0)". */
  readonly symbols: readonly string[];
}

/** Unknown action names (a future rspamd, a custom action) are treated as "no action". */
export function normalizeAction(a: string): RspamdAction {
  const v = a.trim().toLowerCase().replace(/_/g, ' ');
  return (RSPAMD_ACTIONS as readonly string[]).includes(v) ? (v as RspamdAction) : 'no action';
}

export function decide(reply: RspamdReply, cfg: Pick<RspamdConfig, 'rejectScore' | 'tagScore' | 'onReject' | 'onSoftReject' | 'onGreylist' | 'onAddHeader' | 'onRewriteSubject'>): Decision {
  let a = normalizeAction(reply.action);
  let required = reply.required_score;
  if (cfg.rejectScore !== undefined) {
    required = cfg.rejectScore;
    if (reply.score >= cfg.rejectScore) a = 'reject';
    else if (a === 'reject') a = 'add header';
  }
  if (cfg.tagScore !== undefined && reply.score >= cfg.tagScore && (a === 'no action' || a === 'greylist')) a = 'add header';
  const action: Record<RspamdAction, Action | undefined> = {
    'reject': cfg.onReject,
    'soft reject': cfg.onSoftReject,
    'greylist': cfg.onGreylist,
    'add header': cfg.onAddHeader,
    'rewrite subject': cfg.onRewriteSubject,
    'no action': undefined,
  };
  const symbols = Object.entries(reply.symbols ?? {})
    .map(([name, s]) => ({ name, score: s.score ?? 0 }))
    .filter((s) => s.score !== 0)
    .sort((x, y) => y.score - x.score || x.name.localeCompare(y.name))
    .map((s) => `${s.name.replace(/[^\w.-]/g, '_').slice(0, 64)}(${s.score.toFixed(1)})`);
  return {
    rspamdAction: a,
    result: a.replace(/ /g, '-'),
    action: action[a],
    spam: a === 'reject' || a === 'add header' || a === 'rewrite subject',
    score: reply.score,
    required,
    symbols,
  };
}

/** "Yes, action=add header, score=7.2, required=15.0, symbols=A(3.0) B(2.5)"; one line, capped. */
export function resultHeader(d: Decision): string {
  const syms = d.symbols.slice(0, 30).join(' ');
  return `${d.spam ? 'Yes' : 'No'}, action=${d.rspamdAction}, score=${d.score.toFixed(1)}, required=${d.required.toFixed(1)}, symbols=${syms || 'none'}`;
}

/** rspamd's smtp_message, if any, as one safe line for an SMTP reply. */
export function smtpMessage(reply: RspamdReply): string | undefined {
  const m = reply.messages?.smtp_message;
  if (typeof m !== 'string') return undefined;
  const line = m.replace(/[^\x20-\x7e]/g, ' ').replace(/\s+/g, ' ').trim().slice(0, 200);
  return line || undefined;
}

/** Header names or values that would tell the world which software runs here. */
const SOFTWARE = /rspamd|spamd/i;

/**
 * rspamd's milter block: {add_headers: {Name: "value" | {value, order} | [..]}, remove_headers:
 * {Name: n}}. Returns the edits to apply, dropping any that name the software.
 */
export function milterEdits(reply: RspamdReply): { remove: string[]; add: Array<{ name: string; value: string }> } {
  const out = { remove: [] as string[], add: [] as Array<{ name: string; value: string }> };
  const okName = (n: string) => /^[\x21-\x39\x3b-\x7e]{1,76}$/.test(n) && !SOFTWARE.test(n);
  for (const name of Object.keys(reply.milter?.remove_headers ?? {})) if (okName(name)) out.remove.push(name);
  for (const [name, v] of Object.entries(reply.milter?.add_headers ?? {})) {
    if (!okName(name)) continue;
    const values = (Array.isArray(v) ? v : [v]).map((x) => (typeof x === 'string' ? x : typeof x === 'object' && x && typeof (x as { value?: unknown }).value === 'string' ? (x as { value: string }).value : undefined));
    for (const value of values) {
      if (value === undefined || SOFTWARE.test(value)) continue;
      out.add.push({ name, value: value.replace(/[\r\n]+/g, ' ').slice(0, 900) });
    }
  }
  return out;
}
