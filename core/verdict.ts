/**
 * Verdicts: what a hook tap answers. A tap returns one of these to end the chain, or `undefined`
 * (or `null`, which the runner folds into `undefined`) for "no opinion, go on".
 */

/** An SMTP-style reply. `enhanced` is the RFC 3463 enhanced status code, e.g. "5.7.1". */
export interface Reply {
  code: number;
  enhanced?: string;
  text: string;
}

export interface Accept { kind: 'accept'; reply?: Reply }
export interface Reject { kind: 'reject'; reply: Reply; disconnect?: boolean }
export interface Tempfail { kind: 'tempfail'; reply: Reply; disconnect?: boolean }
/** Message stage only: accept, then deliver to the Junk folder (or hold). */
export interface Quarantine { kind: 'quarantine'; reason: string }
/** Message stage only: accept and drop; logged. */
export interface Discard { kind: 'discard'; reason: string }

export type Verdict = Accept | Reject | Tempfail | Quarantine | Discard;
/** What connect, helo, mailFrom, data and queue taps may answer. */
export type EnvelopeVerdict = Accept | Reject | Tempfail;
export type VerdictKind = Verdict['kind'];

/** Where an accepted recipient goes. */
export type DeliveryTarget =
  | { kind: 'local'; user: string; folder?: string }
  | { kind: 'remote'; address: string };

/** rcptTo taps may say where the recipient is delivered (aliases expand, local-domains maps users). */
export interface RcptAccept extends Accept { targets?: DeliveryTarget[] }
export type RcptVerdict = RcptAccept | Reject | Tempfail;

/**
 * Named stages for tap ordering (lower runs first, config order within a stage). Mirrors
 * webpack's named PROCESS_ASSETS_STAGE_* constants.
 */
export const STAGE = {
  /** Loggers, connection bookkeeping. */
  FIRST: -200,
  /** Allow lists that should short-circuit later checks. */
  ALLOW: -100,
  /** Ordinary checks (the default). */
  CHECK: 0,
  /** Plugins that decide from the evidence of others (spam scoring). */
  DECIDE: 100,
  /** Fallbacks. */
  LAST: 200,
} as const;

export const accept = (reply?: Reply): Accept => (reply ? { kind: 'accept', reply } : { kind: 'accept' });
export const reject = (reply: Reply, disconnect = false): Reject => ({ kind: 'reject', reply, disconnect });
export const tempfail = (reply: Reply, disconnect = false): Tempfail => ({ kind: 'tempfail', reply, disconnect });
export const quarantine = (reason: string): Quarantine => ({ kind: 'quarantine', reason });
export const discard = (reason: string): Discard => ({ kind: 'discard', reason });
export const acceptRcpt = (targets?: DeliveryTarget[], reply?: Reply): RcptAccept =>
  ({ kind: 'accept', ...(reply ? { reply } : {}), ...(targets ? { targets } : {}) });

/** Shape check for values that come back from plugin code at run time. */
export function verdictProblem(v: unknown, allowed: ReadonlySet<string>): string | undefined {
  if (typeof v !== 'object' || v === null) return `expected a verdict object, got ${typeof v}`;
  const kind = (v as { kind?: unknown }).kind;
  if (typeof kind !== 'string' || !allowed.has(kind)) return `verdict kind ${String(kind)} is not allowed here (allowed: ${[...allowed].join(', ')})`;
  const reply = (v as { reply?: Reply }).reply;
  if (kind === 'reject' || kind === 'tempfail') {
    if (!reply || typeof reply.code !== 'number' || typeof reply.text !== 'string') return `${kind} needs a reply {code, text}`;
    const klass = kind === 'reject' ? 5 : 4;
    if (Math.floor(reply.code / 100) !== klass) return `${kind} reply code must be ${klass}xx, got ${reply.code}`;
  }
  if (reply !== undefined && reply.enhanced !== undefined && !/^[245]\.\d{1,3}\.\d{1,3}$/.test(reply.enhanced)) {
    return `bad enhanced status code ${reply.enhanced}`;
  }
  if (reply?.text !== undefined && /[\r\n]/.test(reply.text)) return 'reply text must not contain CR or LF';
  return undefined;
}
