/**
 * FETCH attributes (RFC 3501 §6.4.5, RFC 7162 §3.1.4 MODSEQ / CHANGEDSINCE).
 */
import type { Partial, SectionSpec } from '../types.ts';
import { ParseError, type Cursor } from './cursor.ts';

export type SimpleFetch = 'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ' | 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT';

export type FetchItem =
  | { readonly kind: SimpleFetch }
  | { readonly kind: 'section'; readonly peek: boolean; readonly section: SectionSpec; readonly partial?: Partial; readonly name: string };

export interface ParsedFetch {
  readonly items: readonly FetchItem[];
  readonly changedSince?: number;
}

const SIMPLE = new Set<string>(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY', 'BODYSTRUCTURE', 'UID', 'MODSEQ', 'RFC822', 'RFC822.HEADER', 'RFC822.TEXT']);
const MACROS: Record<string, SimpleFetch[]> = {
  ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
  FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
  FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
};
const MAX_ITEMS = 100;
const MAX_FIELDS = 200;

/** After `FETCH SP sequence-set SP`. */
export function parseFetch(c: Cursor): ParsedFetch {
  let items: FetchItem[];
  if (c.peekChar() === '(') {
    items = c.list(() => parseItem(c));
    if (!items.length) throw new ParseError('Empty fetch attribute list');
    if (items.length > MAX_ITEMS) throw new ParseError('Too many fetch attributes');
  } else {
    const ahead = c.lookAhead(6).toUpperCase();
    const macro = Object.keys(MACROS).find((m) => ahead === m || ahead.startsWith(m + ' '));
    if (macro) {
      c.atom();
      items = MACROS[macro].map((kind) => ({ kind }));
    } else {
      items = [parseItem(c)];
    }
  }
  let changedSince: number | undefined;
  if (!c.atEnd()) {
    c.sp();
    const mods = c.list(() => {
      const name = c.atom().toUpperCase();
      if (name !== 'CHANGEDSINCE') throw new ParseError(`Unknown FETCH modifier ${name}`);
      c.sp();
      return c.number();
    });
    changedSince = mods[0];
  }
  return { items, ...(changedSince !== undefined ? { changedSince } : {}) };
}

function parseItem(c: Cursor): FetchItem {
  const word = c.chars((ch) => (ch >= 0x41 && ch <= 0x5a) || (ch >= 0x61 && ch <= 0x7a) || (ch >= 0x30 && ch <= 0x39) || ch === 0x2e, 'a fetch attribute').toUpperCase();
  if ((word === 'BODY' || word === 'BODY.PEEK') && c.peekChar() === '[') {
    const section = parseSection(c);
    const partial = parsePartial(c);
    return { kind: 'section', peek: word === 'BODY.PEEK', section, ...(partial ? { partial } : {}), name: `BODY[${sectionName(section)}]` };
  }
  if (word === 'BINARY' || word === 'BINARY.PEEK') throw new ParseError('BINARY is not supported');
  if (!SIMPLE.has(word)) throw new ParseError(`Unknown fetch attribute ${word}`);
  return { kind: word as SimpleFetch };
}

function parseSection(c: Cursor): SectionSpec {
  c.expect('[');
  const part: number[] = [];
  let text: SectionSpec['text'];
  let fields: string[] | undefined;
  while (c.peekChar() !== ']') {
    const ch = c.peek();
    if (ch >= 0x30 && ch <= 0x39) {
      if (text) throw new ParseError('Invalid section');
      part.push(c.nzNumber());
      if (part.length > 64) throw new ParseError('Section too deep');
      if (c.peekChar() === ']') break;
      c.expect('.');
      continue;
    }
    const t = c.chars((x) => (x >= 0x41 && x <= 0x5a) || (x >= 0x61 && x <= 0x7a) || x === 0x2e, 'a section name').toUpperCase();
    if (t === 'HEADER' || t === 'TEXT') text = t;
    else if (t === 'MIME' && part.length) text = 'MIME';
    else if (t === 'HEADER.FIELDS' || t === 'HEADER.FIELDS.NOT') {
      text = t;
      c.sp();
      fields = c.list(() => c.astring());
      if (!fields.length || fields.length > MAX_FIELDS) throw new ParseError('Invalid header field list');
    } else throw new ParseError(`Invalid section ${t}`);
    if (c.peekChar() !== ']') throw new ParseError('Invalid section');
  }
  c.expect(']');
  return { part, ...(text ? { text } : {}), ...(fields ? { fields } : {}) };
}

function parsePartial(c: Cursor): Partial | undefined {
  if (!c.maybe('<')) return undefined;
  const start = c.number32();
  c.expect('.');
  const length = c.nzNumber();
  if (length > 0xffffffff) throw new ParseError('Partial length out of range');
  c.expect('>');
  return { start, length };
}

/** The section as it goes back in the response: BODY[1.HEADER.FIELDS (FROM TO)]. */
export function sectionName(s: SectionSpec): string {
  const parts = [s.part.join('.'), s.text ?? ''].filter(Boolean).join('.');
  return s.fields ? `${parts} (${s.fields.join(' ')})` : parts;
}
