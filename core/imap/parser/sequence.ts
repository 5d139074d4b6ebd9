/**
 * sequence-set (RFC 3501 §9) parsing, and resolving a set against a session's sequence map.
 */
import { lowerBound } from '../../store/mail-store.ts';
import type { SeqRange, SequenceSet } from '../types.ts';
import { ParseError, type Cursor } from './cursor.ts';

/** Ranges in one set; bounds the work a single command can ask for. */
const MAX_RANGES = 10_000;

function seqNumber(c: Cursor): number | '*' {
  if (c.maybe('*')) return '*';
  const n = c.nzNumber();
  if (n > 0xffffffff) throw new ParseError('Sequence number out of range');
  return n;
}

export function parseSequenceSet(c: Cursor): SequenceSet {
  const out: SeqRange[] = [];
  for (;;) {
    const from = seqNumber(c);
    const to = c.maybe(':') ? seqNumber(c) : from;
    out.push({ from, to });
    if (out.length > MAX_RANGES) throw new ParseError('Sequence set too long');
    if (!c.maybe(',')) return out;
  }
}

/** True when the cursor is at something that looks like a sequence set (digit or `*`). */
export function atSequenceSet(c: Cursor): boolean {
  const ch = c.peek();
  return ch === 0x2a || (ch >= 0x30 && ch <= 0x39);
}

/**
 * UIDs selected by a message sequence set over `uids` (the session's map, ascending): `*` is the
 * last message. Numbers beyond the mailbox make the set invalid (RFC 3501 §9: BAD), reported as null.
 */
export function resolveSeqSet(set: SequenceSet, uids: readonly number[]): number[] | null {
  const n = uids.length;
  const picked = new Set<number>();
  for (const r of set) {
    const a = r.from === '*' ? n : r.from;
    const b = r.to === '*' ? n : r.to;
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    if (n === 0 || hi > n) return null;
    for (let i = lo; i <= hi; i++) picked.add(i);
  }
  return [...picked].sort((x, y) => x - y).map((i) => uids[i - 1]);
}

/** UIDs of `uids` within a UID set (`*` is the largest UID in use, RFC 3501 §6.4.8); never invalid. */
export function resolveUidSet(set: SequenceSet, uids: readonly number[]): number[] {
  if (!uids.length) return [];
  const max = uids[uids.length - 1];
  const ranges = set.map((r) => {
    const a = r.from === '*' ? max : r.from;
    const b = r.to === '*' ? max : r.to;
    return [Math.min(a, b), Math.max(a, b)] as const;
  }).sort((x, y) => x[0] - y[0]);
  const out: number[] = [];
  let next = 0;
  for (const [lo, hi] of ranges) {
    let i = Math.max(next, lowerBound(uids, lo));
    while (i < uids.length && uids[i] <= hi) out.push(uids[i++]);
    next = Math.max(next, i);
  }
  return out;
}

/** A compact sequence-set text of ascending numbers: 1:3,7,9:10. */
export function formatSet(nums: readonly number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] <= sorted[j] + 1) j++;
    parts.push(sorted[i] === sorted[j] ? String(sorted[i]) : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
