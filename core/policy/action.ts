/**
 * The `action` option every inbound check has, so an admin can roll a check out gently:
 * `tag` first (a header says what would have happened), then `quarantine` (Junk), then `reject`.
 *
 * A check calls `applyAction` with what it found. reject/tempfail come back as the verdict the tap
 * returns; quarantine/tag/ignore are recorded as evidence and the tap returns undefined, so later
 * checks still run and one late plugin (spam-score) may still decide. When nobody decides, the core
 * honours recorded quarantines (`quarantineFromEvidence`) and writes recorded tags as headers
 * (`tagHeaders`) at the message stage.
 */
import { z } from 'zod';
import type { Evidence } from '../smtp/types.ts';
import { quarantine, reject, tempfail, type Quarantine, type Reply, type Reject, type Tempfail } from '../verdict.ts';

export const ACTIONS = ['reject', 'tempfail', 'quarantine', 'tag', 'ignore'] as const;
export type Action = (typeof ACTIONS)[number];

/** A zod schema for a plugin's `action` option, with its default. */
export function actionSchema(dflt: Action) {
  return z.enum(ACTIONS).default(dflt)
    .describe('What to do when the check fires: reject (5xx), tempfail (4xx), quarantine (deliver to Junk), tag (add a header), ignore (record only).');
}

/** The header a `tag` action writes, one per tagged finding. */
export const TAG_HEADER = 'X-Policy-Check';

export interface Finding {
  plugin: string;
  check: string;
  result: string;
  score?: number;
  reason?: string;
}

/**
 * Record a finding and turn the action into a verdict. `replies` gives the 5xx/4xx the check uses
 * when its action is reject or tempfail (e.g. 554 5.7.1 naming the block list).
 */
export function applyAction(
  into: { readonly evidence: Evidence[] },
  action: Action,
  finding: Finding,
  replies: { reject: Reply; tempfail: Reply },
): Reject | Tempfail | undefined {
  if (action === 'reject') {
    into.evidence.push({ ...finding });
    return reject(replies.reject);
  }
  if (action === 'tempfail') {
    into.evidence.push({ ...finding });
    return tempfail(replies.tempfail);
  }
  into.evidence.push({ ...finding, action });
  return undefined;
}

/** The quarantine the recorded evidence asks for, when no tap answered at the message stage. */
export function quarantineFromEvidence(evidence: readonly Evidence[]): Quarantine | undefined {
  const q = evidence.filter((e) => e.action === 'quarantine');
  if (!q.length) return undefined;
  return quarantine(q.map((e) => `${e.plugin}/${e.check}: ${e.result}`).join('; '));
}

/** Printable ASCII only: findings may quote client text (a HELO name, a reply) into a header. */
function headerSafe(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]+/g, ' ').trim().slice(0, max);
}

/** Header values for the evidence recorded with action `tag`: one line per finding. */
export function tagHeaders(evidence: readonly Evidence[]): string[] {
  return evidence
    .filter((e) => e.action === 'tag')
    .map((e) => headerSafe(`${e.plugin}/${e.check}=${e.result}${e.score !== undefined ? ` score=${e.score}` : ''}${e.reason ? ` (${headerSafe(e.reason, 200)})` : ''}`, 900));
}
