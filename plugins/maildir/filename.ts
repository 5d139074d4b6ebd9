/**
 * Maildir file names: `<base>[:2,<info>]`. The base carries the Maildir++ size `,S=<bytes>` so a listing
 * gives the size without a stat. The info letters are the standard flags (D F P R S T) in ASCII order,
 * then Dovecot-style keyword letters a–z (their meaning is in the folder's dovecot-keywords file).
 */
import { MAX_KEYWORDS } from './keywords.ts';

export interface ParsedName {
  readonly base: string;
  /** Info letters, de-duplicated and sorted; '' for a file in new/ or without `:2,`. */
  readonly info: string;
  readonly size: number | undefined;
}

/** Standard info letters (https://cr.yp.to/proto/maildir.html); P has no IMAP system flag. */
const LETTER_FLAGS: ReadonlyMap<string, string> = new Map([
  ['D', '\\Draft'],
  ['F', '\\Flagged'],
  ['P', '$Forwarded'], // RFC 5788 registered keyword, the mapping Dovecot uses
  ['R', '\\Answered'],
  ['S', '\\Seen'],
  ['T', '\\Deleted'],
]);
const FLAG_LETTERS: ReadonlyMap<string, string> = new Map([...LETTER_FLAGS].map(([l, f]) => [f.toLowerCase(), l]));

const SIZE = /,S=(\d+)/;

export function parseFilename(name: string): ParsedName {
  const colon = name.indexOf(':');
  const base = colon < 0 ? name : name.slice(0, colon);
  const rest = colon < 0 ? '' : name.slice(colon + 1);
  const info = rest.startsWith('2,') ? sortInfo(rest.slice(2)) : '';
  const size = SIZE.exec(base);
  return { base, info, size: size ? Number(size[1]) : undefined };
}

/** The file name in cur/ for a base and info letters (new/ names carry no info). */
export function curName(base: string, info: string): string {
  return `${base}:2,${info}`;
}

export function sortInfo(letters: string): string {
  // Fast path for the usual case (already strictly ascending letters): scans parse 100,000s of names.
  let ordered = true;
  for (let i = 0; i < letters.length && ordered; i++) {
    const c = letters.charCodeAt(i);
    const letter = (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    ordered = letter && (i === 0 || c > letters.charCodeAt(i - 1));
  }
  return ordered ? letters : [...new Set(letters.replace(/[^A-Za-z]/g, ''))].sort().join('');
}

/** IMAP flags of an info string; `keywords[i]` names letter `a`+i. */
export function infoToFlags(info: string, keywords: readonly (string | undefined)[]): string[] {
  const system: string[] = [];
  const named: string[] = [];
  for (const letter of info) {
    const flag = LETTER_FLAGS.get(letter);
    if (flag !== undefined) (flag.startsWith('\\') ? system : named).push(flag);
    else if (letter >= 'a' && letter <= 'z') {
      const keyword = keywords[letter.charCodeAt(0) - 97];
      if (keyword !== undefined) named.push(keyword);
    }
  }
  return [...system.sort(), ...named];
}

/**
 * Info letters for a flag list. `keywordIndex` gives a keyword's slot (the caller has registered every
 * keyword first). Letters this mapping does not own (another tool's, an unknown keyword slot) are kept
 * from `previous` so rewriting flags never drops them.
 */
export function flagsToInfo(
  flags: readonly string[],
  keywordIndex: (keyword: string) => number | undefined,
  previous = '',
  keywords: readonly (string | undefined)[] = [],
): string {
  let letters = [...previous]
    .filter((l) => (l >= 'A' && l <= 'Z' ? !LETTER_FLAGS.has(l) : keywords[l.charCodeAt(0) - 97] === undefined))
    .join('');
  for (const flag of flags) {
    const letter = FLAG_LETTERS.get(flag.toLowerCase());
    if (letter !== undefined) {
      letters += letter;
      continue;
    }
    const index = keywordIndex(flag);
    if (index !== undefined && index < MAX_KEYWORDS) letters += String.fromCharCode(97 + index);
  }
  return sortInfo(letters);
}

/** Keywords without a standard letter take one of the folder's a–z slots. */
export function needsKeywordSlot(flag: string): boolean {
  return !flag.startsWith('\\') && !FLAG_LETTERS.has(flag.toLowerCase());
}

/** True when the info letters mean \Seen (RFC 3501 UNSEEN counts messages without it). */
export function infoSeen(info: string): boolean {
  return info.includes('S');
}

export function infoDeleted(info: string): boolean {
  return info.includes('T');
}
