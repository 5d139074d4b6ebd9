/**
 * STORE and UID STORE (RFC 3501 §6.4.6) with .SILENT and CONDSTORE UNCHANGEDSINCE / MODIFIED
 * (RFC 7162 §3.1.3).
 */
import { ParseError, type Cursor } from '../parser/cursor.ts';
import { formatSet } from '../parser/sequence.ts';
import { flagList } from '../responses.ts';
import type { ImapSession } from '../session.ts';
import { resolveSet } from './fetch.ts';
import { no, ok, SELECTED, type CommandSpec, type Outcome } from './types.ts';

async function store(s: ImapSession, c: Cursor, uid: boolean): Promise<Outcome> {
  const sel = s.selected!;
  const view = sel.view;
  const uids = resolveSet(s, c, uid);
  c.sp();
  let unchangedSince: number | undefined;
  if (c.peekChar() === '(') {
    c.list(() => {
      const m = c.atom().toUpperCase();
      if (m !== 'UNCHANGEDSINCE') throw new ParseError(`Unknown STORE modifier ${m}`);
      c.sp();
      unchangedSince = c.number();
      return m;
    });
    s.condstore = true;
    c.sp();
  }
  const item = c.atom().toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!m) throw new ParseError(`Unknown STORE item ${item}`);
  c.sp();
  const flags = c.peekChar() === '(' ? c.list(() => c.flag()) : (() => {
    const out = [c.flag()];
    while (!c.atEnd()) {
      c.sp();
      out.push(c.flag());
    }
    return out;
  })();
  c.end();
  if (flags.includes('\\Recent')) throw new ParseError('\\Recent cannot be stored');
  if (view.readOnly) return no('[READ-ONLY] Mailbox is read-only');
  const mode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
  const silent = Boolean(m[2]);
  const result = uids.length
    ? await view.setFlags(uids, { mode, flags: [...new Set(flags)], ...(unchangedSince !== undefined ? { unchangedSince } : {}) })
    : { changed: [], modified: [] };
  // RFC 3501 §7.2.6: a keyword new to the mailbox means a new FLAGS response first.
  let fresh = false;
  for (const ch of result.changed) if (sel.learnKeywords(ch.flags)) fresh = true;
  if (fresh) for (const line of sel.flagsLines()) await s.send(line + '\r\n');
  const changed = new Map(result.changed.map((ch) => [ch.uid, ch]));
  const modified = new Set(result.modified);
  for (const u of uids) {
    if (modified.has(u)) continue;
    const ch = changed.get(u);
    // RFC 7162 §3.1.3: with UNCHANGEDSINCE, a changed message's FETCH carries MODSEQ even when silent.
    if (silent && !(ch && unchangedSince !== undefined)) continue;
    if (!silent || ch) {
      const info = view.get(u);
      const seq = sel.seqOf(u);
      if (!info || !seq) continue;
      const parts = [`FLAGS ${flagList(info.flags, view.isRecent(u))}`];
      if (uid) parts.unshift(`UID ${u}`);
      if (s.condstore) parts.push(`MODSEQ (${info.modseq})`);
      if (silent) parts.splice(parts.findIndex((p) => p.startsWith('FLAGS')), 1);
      await s.untagged(`${seq} FETCH (${parts.join(' ')})`);
    }
  }
  if (modified.size) {
    const set = uid ? [...modified] : [...modified].map((u) => sel.seqOf(u)).filter(Boolean);
    return ok(`[MODIFIED ${formatSet(set)}] Conditional STORE failed for some messages`);
  }
  return ok(`${uid ? 'UID STORE' : 'STORE'} completed`);
}

export const STORE_COMMANDS: Record<string, CommandSpec> = {
  STORE: { states: SELECTED, run: (s, _t, c, uid) => store(s, c, uid), expungeOk: false },
};
