/**
 * Message flags as the store speaks them: IMAP system flags spelled `\Seen` …, and keywords.
 * RFC 3501 §2.3.2 (RFC 9051 §2.3.2): flags are case-insensitive; `\Recent` is a session property,
 * never stored, so it is not accepted here.
 */
import { MailStoreError } from './errors.ts';

export const SYSTEM_FLAGS = ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen'] as const;
export type SystemFlag = (typeof SYSTEM_FLAGS)[number];

const SYSTEM_BY_LOWER = new Map<string, SystemFlag>(SYSTEM_FLAGS.map((f) => [f.toLowerCase(), f]));

/** Long enough for every registered keyword (RFC 5788); a cap so one flag cannot bloat a filename map. */
export const MAX_KEYWORD_LENGTH = 64;

/**
 * RFC 3501 §9: flag-keyword = atom; ATOM-CHAR is any CHAR (%x01-7F) except atom-specials:
 * `( ) { SP CTL % * " \ ]`.
 */
const KEYWORD = /^[!#$&'+-[^-z|}~]+$/;

export function isSystemFlag(flag: string): flag is SystemFlag {
  return SYSTEM_BY_LOWER.get(flag.toLowerCase()) === flag;
}

export function isValidKeyword(flag: string): boolean {
  return flag.length > 0 && flag.length <= MAX_KEYWORD_LENGTH && KEYWORD.test(flag);
}

/** The canonical spelling of a flag (system flags re-cased), or undefined if it is not a storable flag. */
export function canonicalFlag(flag: string): string | undefined {
  if (flag.startsWith('\\')) return SYSTEM_BY_LOWER.get(flag.toLowerCase());
  return isValidKeyword(flag) ? flag : undefined;
}

/**
 * Canonical, de-duplicated (case-insensitively) flag list, system flags first, in a stable order.
 * Throws CANNOT on a flag that cannot be stored (`\Recent`, `\Foo`, a keyword with specials).
 */
export function normalizeFlags(flags: Iterable<string>): string[] {
  const seen = new Map<string, string>();
  for (const raw of flags) {
    const flag = canonicalFlag(raw);
    if (flag === undefined) throw new MailStoreError('CANNOT', `not a storable flag: ${JSON.stringify(raw)}`);
    const key = flag.toLowerCase();
    if (!seen.has(key)) seen.set(key, flag);
  }
  return [...seen.values()].sort(compareFlags);
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const key = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === key);
}

/** Applies a STORE-style change (RFC 3501 §6.4.6: FLAGS, +FLAGS, -FLAGS) to a normalized list. */
export function applyFlagChange(current: readonly string[], mode: 'set' | 'add' | 'remove', flags: readonly string[]): string[] {
  if (mode === 'set') return normalizeFlags(flags);
  if (mode === 'add') return normalizeFlags([...current, ...flags]);
  const drop = new Set(flags.map((f) => f.toLowerCase()));
  return current.filter((f) => !drop.has(f.toLowerCase()));
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const keys = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => keys.has(f.toLowerCase()));
}

function compareFlags(a: string, b: string): number {
  const sa = a.startsWith('\\') ? 0 : 1;
  const sb = b.startsWith('\\') ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const la = a.toLowerCase();
  const lb = b.toLowerCase();
  return la < lb ? -1 : la > lb ? 1 : 0;
}
