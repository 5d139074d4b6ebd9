/**
 * RFC 3501 §9 date ("1-Feb-1994", maybe quoted) and date-time ("17-Jul-1996 02:44:25 -0700").
 */
import { ParseError, type Cursor } from './cursor.ts';

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function monthIndex(m: string): number {
  const i = MONTHS.findIndex((x) => x.toLowerCase() === m.toLowerCase());
  if (i < 0) throw new ParseError(`Invalid month "${m}"`);
  return i;
}

/** SEARCH date → "YYYY-MM-DD". */
export function parseSearchDate(c: Cursor): string {
  const quoted = c.maybe('"');
  const text = c.chars((ch) => ch !== 0x20 && ch !== 0x22 && ch !== 0x29 && ch > 0x20 && ch < 0x7f, 'a date');
  if (quoted) c.expect('"');
  const m = /^([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4})$/.exec(text);
  if (!m) throw new ParseError(`Invalid date "${text}" (expected e.g. 1-Feb-1994)`);
  const day = Number(m[1]);
  const month = monthIndex(m[2]);
  const year = Number(m[3]);
  const d = new Date(Date.UTC(year, month, day));
  if (d.getUTCDate() !== day) throw new ParseError(`Invalid date "${text}"`);
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** APPEND date-time (always quoted). */
export function parseDateTime(c: Cursor): Date {
  c.expect('"');
  const text = c.chars((ch) => ch !== 0x22 && ch >= 0x20 && ch < 0x7f, 'a date-time');
  c.expect('"');
  const m = /^ ?([0-9]{1,2})-([A-Za-z]{3})-([0-9]{4}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2})$/.exec(text);
  if (!m) throw new ParseError(`Invalid date-time "${text}"`);
  const [day, year, hh, mm, ss, zh, zm] = [m[1], m[3], m[4], m[5], m[6], m[8], m[9]].map(Number);
  const month = monthIndex(m[2]);
  if (hh > 23 || mm > 59 || ss > 60 || zm > 59) throw new ParseError(`Invalid date-time "${text}"`);
  const offset = (m[7] === '-' ? -1 : 1) * (zh * 60 + zm);
  const ms = Date.UTC(year, month, day, hh, mm, ss) - offset * 60_000;
  const check = new Date(Date.UTC(year, month, day));
  if (check.getUTCDate() !== day) throw new ParseError(`Invalid date-time "${text}"`);
  return new Date(ms);
}

/** INTERNALDATE in the response form "17-Jul-1996 02:44:25 +0000" (UTC). */
export function formatDateTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
}
