/**
 * SEARCH and UID SEARCH (RFC 3501 §6.4.4) with CHARSET UTF-8 and CONDSTORE MODSEQ
 * (RFC 7162 §3.1.5). Evaluation is the message layer's.
 */
import { search } from '../message/index.ts';
import type { Cursor } from '../parser/cursor.ts';
import { parseSearch } from '../parser/search.ts';
import type { ImapSession } from '../session.ts';
import { no, ok, SELECTED, type CommandSpec, type Outcome } from './types.ts';

const CHARSETS = new Set(['UTF-8', 'US-ASCII']);

async function run(s: ImapSession, c: Cursor, uid: boolean): Promise<Outcome> {
  const sel = s.selected!;
  const view = sel.view;
  const req = parseSearch(c);
  c.end();
  if (req.charset !== undefined && !CHARSETS.has(req.charset)) return no('[BADCHARSET (UTF-8 US-ASCII)] Unsupported charset');
  if (req.usesModseq) s.condstore = true;
  const found = await search(view, req.key, {
    uids: sel.uids,
    seqOf: (u) => sel.seqOf(u),
    isRecent: (u) => view.isRecent(u),
    cache: s.env.cache,
    ...(req.charset ? { charset: req.charset } : {}),
  });
  const known = found.filter((u) => sel.seqOf(u) > 0);
  const nums = uid ? known : known.map((u) => sel.seqOf(u));
  let line = 'SEARCH' + nums.map((n) => ' ' + n).join('');
  if (req.usesModseq && known.length) {
    // RFC 7162 §3.1.5: the highest mod-sequence of the messages found.
    let max = 0;
    for (const u of known) max = Math.max(max, view.get(u)?.modseq ?? 0);
    line += ` (MODSEQ ${max})`;
  }
  await s.untagged(line);
  return ok(`${uid ? 'UID SEARCH' : 'SEARCH'} completed`);
}

export const SEARCH_COMMANDS: Record<string, CommandSpec> = {
  SEARCH: { states: SELECTED, run: (s, _t, c, uid) => run(s, c, uid), expungeOk: false },
};
