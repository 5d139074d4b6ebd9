/**
 * SEARCH program → SearchKey (RFC 3501 §6.4.4, RFC 7162 §3.1.5 MODSEQ). Top level is an implicit AND.
 */
import type { SearchKey } from '../types.ts';
import { MAX_DEPTH, ParseError, type Cursor } from './cursor.ts';
import { parseSearchDate } from './date.ts';
import { atSequenceSet, parseSequenceSet } from './sequence.ts';

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true], DELETED: ['\\Deleted', true], DRAFT: ['\\Draft', true], FLAGGED: ['\\Flagged', true], SEEN: ['\\Seen', true],
  UNANSWERED: ['\\Answered', false], UNDELETED: ['\\Deleted', false], UNDRAFT: ['\\Draft', false], UNFLAGGED: ['\\Flagged', false], UNSEEN: ['\\Seen', false],
};
const DATE_KEYS: Record<string, ['internal' | 'sent', 'before' | 'on' | 'since']> = {
  BEFORE: ['internal', 'before'], ON: ['internal', 'on'], SINCE: ['internal', 'since'],
  SENTBEFORE: ['sent', 'before'], SENTON: ['sent', 'on'], SENTSINCE: ['sent', 'since'],
};
const HEADER_KEYS = new Set(['FROM', 'TO', 'CC', 'BCC', 'SUBJECT']);
/** Keys in one program; bounds evaluation work. */
const MAX_KEYS = 1000;

export interface ParsedSearch {
  readonly key: SearchKey;
  readonly charset?: string;
  /** The program used MODSEQ: the response carries (MODSEQ n) (RFC 7162 §3.1.5). */
  readonly usesModseq: boolean;
}

/** After `SEARCH SP`: [CHARSET SP astring SP] search-key *(SP search-key). */
export function parseSearch(c: Cursor): ParsedSearch {
  let charset: string | undefined;
  const state = { count: 0, modseq: false };
  const keys: SearchKey[] = [];
  for (;;) {
    if (keys.length === 0 && charset === undefined && /^charset /i.test(c.lookAhead(8))) {
      c.atom();
      c.sp();
      charset = c.astring().toUpperCase();
      c.sp();
    }
    keys.push(parseKey(c, 1, state));
    if (c.atEnd()) break;
    c.sp();
  }
  const key: SearchKey = keys.length === 1 ? keys[0] : { op: 'and', keys };
  return { key, ...(charset !== undefined ? { charset } : {}), usesModseq: state.modseq };
}

function parseKey(c: Cursor, depth: number, state: { count: number; modseq: boolean }): SearchKey {
  if (++state.count > MAX_KEYS) throw new ParseError('Search program too long');
  if (depth > MAX_DEPTH) throw new ParseError('Search program too deeply nested');
  if (c.peekChar() === '(') {
    const keys = c.list(() => parseKey(c, depth + 1, state), depth);
    if (!keys.length) throw new ParseError('Empty search key list');
    return keys.length === 1 ? keys[0] : { op: 'and', keys };
  }
  if (atSequenceSet(c)) return { op: 'seq', set: parseSequenceSet(c) };
  const word = c.atom().toUpperCase();
  const flag = FLAG_KEYS[word];
  if (flag) return { op: 'flag', flag: flag[0], set: flag[1] };
  const date = DATE_KEYS[word];
  if (date) {
    c.sp();
    return { op: 'date', field: date[0], cmp: date[1], date: parseSearchDate(c) };
  }
  if (HEADER_KEYS.has(word)) {
    c.sp();
    return { op: 'header', name: word.charAt(0) + word.slice(1).toLowerCase(), value: c.astring() };
  }
  switch (word) {
    case 'ALL': return { op: 'all' };
    case 'NEW': return { op: 'and', keys: [{ op: 'recent', set: true }, { op: 'flag', flag: '\\Seen', set: false }] };
    case 'OLD': return { op: 'recent', set: false };
    case 'RECENT': return { op: 'recent', set: true };
    case 'KEYWORD':
    case 'UNKEYWORD': {
      c.sp();
      return { op: 'flag', flag: c.atom(), set: word === 'KEYWORD' };
    }
    case 'LARGER':
    case 'SMALLER': {
      c.sp();
      return { op: 'size', cmp: word === 'LARGER' ? 'larger' : 'smaller', n: c.number32() };
    }
    case 'HEADER': {
      c.sp();
      const name = c.astring();
      c.sp();
      return { op: 'header', name, value: c.astring() };
    }
    case 'BODY':
    case 'TEXT': {
      c.sp();
      return { op: 'text', where: word === 'BODY' ? 'body' : 'text', value: c.astring() };
    }
    case 'UID': {
      c.sp();
      return { op: 'uid', set: parseSequenceSet(c) };
    }
    case 'NOT': {
      c.sp();
      return { op: 'not', key: parseKey(c, depth + 1, state) };
    }
    case 'OR': {
      c.sp();
      const a = parseKey(c, depth + 1, state);
      c.sp();
      const b = parseKey(c, depth + 1, state);
      return { op: 'or', a, b };
    }
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer
      c.sp();
      if (c.peekChar() === '"') {
        c.string();
        c.sp();
        const t = c.atom().toLowerCase();
        if (t !== 'priv' && t !== 'shared' && t !== 'all') throw new ParseError('Invalid MODSEQ entry type');
        c.sp();
      }
      state.modseq = true;
      return { op: 'modseq', n: c.number() };
    }
    default:
      throw new ParseError(`Unknown search key ${word}`);
  }
}
