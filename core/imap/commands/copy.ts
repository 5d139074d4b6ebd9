/**
 * COPY / UID COPY (RFC 3501 §6.4.7) with COPYUID (RFC 4315 §3), and MOVE / UID MOVE (RFC 6851).
 */
import { isMailStoreError } from '../../store/errors.ts';
import type { CopyResult } from '../../store/mail-store.ts';
import type { Cursor } from '../parser/cursor.ts';
import { formatSet } from '../parser/sequence.ts';
import type { ImapSession } from '../session.ts';
import { resolveSet } from './fetch.ts';
import { parseMailbox } from './names.ts';
import { no, ok, SELECTED, type CommandSpec, type Outcome } from './types.ts';

function copyUid(r: CopyResult): string {
  return `COPYUID ${r.uidValidity} ${formatSetOrdered(r.sourceUids)} ${formatSetOrdered(r.destUids)}`;
}

/** Source and destination sets must pair up position by position, so no sorting here. */
function formatSetOrdered(nums: readonly number[]): string {
  const sorted = nums.every((n, i) => i === 0 || n > nums[i - 1]);
  return sorted ? formatSet(nums) : nums.join(',');
}

async function copyOrMove(s: ImapSession, c: Cursor, uid: boolean, move: boolean): Promise<Outcome> {
  const sel = s.selected!;
  const uids = resolveSet(s, c, uid);
  c.sp();
  const dest = parseMailbox(c);
  c.end();
  const word = `${uid ? 'UID ' : ''}${move ? 'MOVE' : 'COPY'}`;
  if (move && sel.view.readOnly) return no('[READ-ONLY] Mailbox is read-only');
  if (!uids.length) return ok(`${word} completed (no messages)`);
  let r: CopyResult;
  try {
    r = move ? await sel.view.move(uids, dest) : await sel.view.copy(uids, dest);
  } catch (err) {
    if (isMailStoreError(err, 'NONEXISTENT')) return no('[TRYCREATE] No such mailbox');
    throw err;
  }
  if (!move) return ok(`[${copyUid(r)}] ${word} completed`);
  // RFC 6851 §4.3: COPYUID goes in an untagged OK before the EXPUNGEs.
  await s.untagged(`OK [${copyUid(r)}] Moved`);
  for (const line of sel.expungeNow(r.sourceUids)) await s.send(line + '\r\n');
  return ok(`${word} completed`);
}

export const COPY_COMMANDS: Record<string, CommandSpec> = {
  COPY: { states: SELECTED, run: (s, _t, c, uid) => copyOrMove(s, c, uid, false) },
  MOVE: { states: SELECTED, run: (s, _t, c, uid) => copyOrMove(s, c, uid, true) },
};
