/**
 * LIST and LSUB (RFC 3501 §6.3.8–9) with LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819),
 * SPECIAL-USE (RFC 6154) and CHILDREN (RFC 3348) attributes.
 */
import type { FolderInfo } from '../../store/mail-store.ts';
import { decodeMutf7 } from '../mutf7.ts';
import { isAtomChar, ParseError, type Cursor } from '../parser/cursor.ts';
import { mailboxName } from '../responses.ts';
import type { ImapSession } from '../session.ts';
import { parseStatusItems, statusText } from './mailbox.ts';
import { canonical } from './names.ts';
import { AUTHED, ok, type CommandSpec } from './types.ts';

/** list-mailbox: atom chars plus wildcards and "]", or a string. */
function parsePattern(c: Cursor): string {
  const raw = c.isStringStart()
    ? c.string()
    : c.chars((ch) => isAtomChar(ch) || ch === 0x25 || ch === 0x2a || ch === 0x5d, 'a mailbox pattern');
  const name = decodeMutf7(raw);
  if (name === null) throw new ParseError('Pattern is not valid modified UTF-7');
  return name;
}

export function patternRegex(pattern: string, delimiter: string, caseInsensitive = false): RegExp {
  const d = delimiter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let src = '';
  for (const ch of pattern) {
    if (ch === '*') src += '.*';
    else if (ch === '%') src += `[^${d}]*`;
    else src += ch.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, caseInsensitive ? 'is' : 's');
}

function matches(name: string, re: RegExp, reI: RegExp): boolean {
  if (re.test(name)) return true;
  // INBOX is case-insensitive (RFC 3501 §5.1).
  return (name === 'INBOX' || name.startsWith('INBOX')) && reI.test(name);
}

interface ListRequest {
  selSubscribed: boolean;
  selSpecialUse: boolean;
  recursive: boolean;
  retSubscribed: boolean;
  retChildren: boolean;
  retSpecialUse: boolean;
  status?: string[];
  lsub: boolean;
}

async function list(s: ImapSession, c: Cursor, lsub: boolean) {
  const req: ListRequest = { selSubscribed: lsub, selSpecialUse: false, recursive: false, retSubscribed: false, retChildren: true, retSpecialUse: true, lsub };
  if (!lsub && c.peekChar() === '(') {
    for (const opt of c.list(() => c.atom().toUpperCase())) {
      if (opt === 'SUBSCRIBED') req.selSubscribed = req.retSubscribed = true;
      else if (opt === 'SPECIAL-USE') req.selSpecialUse = true;
      else if (opt === 'RECURSIVEMATCH') req.recursive = true;
      else if (opt === 'REMOTE') { /* no remote mailboxes */ } else throw new ParseError(`Unknown LIST selection option ${opt}`);
    }
    // RFC 5258 §3: RECURSIVEMATCH alone is an error.
    if (req.recursive && !req.selSubscribed) throw new ParseError('RECURSIVEMATCH needs another selection option');
    c.sp();
  }
  const ref = parsePattern(c);
  c.sp();
  const patterns = !lsub && c.peekChar() === '(' ? c.list(() => parsePattern(c)) : [parsePattern(c)];
  if (!lsub && !c.atEnd()) {
    c.sp();
    const kw = c.atom().toUpperCase();
    if (kw !== 'RETURN') throw new ParseError('Expected RETURN');
    c.sp();
    c.list(() => {
      const opt = c.atom().toUpperCase();
      if (opt === 'SUBSCRIBED') req.retSubscribed = true;
      else if (opt === 'CHILDREN') req.retChildren = true;
      else if (opt === 'SPECIAL-USE') req.retSpecialUse = true;
      else if (opt === 'STATUS') {
        c.sp();
        req.status = parseStatusItems(c);
      } else throw new ParseError(`Unknown LIST return option ${opt}`);
      return opt;
    });
  }
  c.end();
  const d = s.store.delimiter;
  const word = lsub ? 'LSUB' : 'LIST';
  // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
  if (patterns.length === 1 && patterns[0] === '') {
    await s.untagged(`${word} (\\Noselect) "${d}" ""`);
    return ok(`${word} completed`);
  }
  const entries = withParents(await s.store.listFolders(s.user!), d);
  const res = patterns.map((p) => {
    const full = canonical(ref + p);
    return [patternRegex(full, d), patternRegex(full, d, true)] as const;
  });
  for (const f of entries) {
    const hits = res.filter(([re, reI]) => matches(f.name, re, reI));
    if (!hits.length) continue;
    // Descendants the pattern stops short of (`%`): RFC 3501 §6.3.8 lists their parent level,
    // RFC 5258 §3.5 names it with CHILDINFO under RECURSIVEMATCH.
    const hidden = entries.filter((o) => o.name.startsWith(f.name + d) && hits.every(([re, reI]) => !matches(o.name, re, reI)));
    let extra = '';
    let noselect = false;
    if (req.selSubscribed) {
      if (!f.subscribed) {
        if (!hidden.some((o) => o.subscribed)) continue;
        // RFC 3501 §6.3.9: LSUB shows the level as \Noselect; LIST-EXTENDED only with RECURSIVEMATCH.
        if (req.lsub) noselect = true;
        else if (req.recursive) extra = ' ("CHILDINFO" ("SUBSCRIBED"))';
        else continue;
      }
    } else if (!f.exists) {
      if (!hidden.some((o) => o.exists)) continue;
      noselect = true;
    }
    if (req.selSpecialUse && !f.specialUse) continue;
    const attrs = attributes(f, req);
    if (noselect) attrs.unshift('\\Noselect');
    await s.untagged(`${word} (${attrs.join(' ')}) "${d}" ${mailboxName(f.name)}${extra}`);
    if (req.status && f.exists) {
      try {
        await s.untagged(statusText(f.name, await s.store.status(s.user!, f.name), req.status));
      } catch { /* RFC 5819 §2: skipped when the status cannot be had */ }
    }
  }
  return ok(`${word} completed`);
}

/** Folders plus the hierarchy levels above them that are not folders themselves, in name order. */
function withParents(folders: readonly FolderInfo[], d: string): FolderInfo[] {
  const byName = new Map(folders.map((f) => [f.name, f]));
  for (const f of folders) {
    const parts = f.name.split(d);
    for (let i = 1; i < parts.length; i++) {
      const name = parts.slice(0, i).join(d);
      if (name && !byName.has(name)) byName.set(name, { name, subscribed: false, exists: false, hasChildren: true });
    }
  }
  return [...byName.values()].sort((a, b) => (a.name === 'INBOX' ? -1 : b.name === 'INBOX' ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function attributes(f: FolderInfo, req: ListRequest): string[] {
  const out: string[] = [];
  if (!f.exists && f.subscribed) out.push(req.lsub ? '\\Noselect' : '\\NonExistent');
  if (req.retChildren && !req.lsub) out.push(f.hasChildren ? '\\HasChildren' : '\\HasNoChildren');
  if (req.retSubscribed && f.subscribed) out.push('\\Subscribed');
  if (req.retSpecialUse && f.specialUse) out.push(f.specialUse);
  return out;
}

export const LIST_COMMANDS: Record<string, CommandSpec> = {
  LIST: { states: AUTHED, run: (s, _t, c) => list(s, c, false) },
  LSUB: { states: AUTHED, run: (s, _t, c) => list(s, c, true) },
};
