/**
 * Keyword ↔ letter map of one folder, in Dovecot's `dovecot-keywords` format ("<index> <keyword>" per
 * line, index 0 = letter a) so Dovecot reading the same Maildir shows the same keywords. 26 letters
 * only: a folder with more distinct keywords refuses new ones (LIMIT).
 */
import path from 'node:path';
import { MailStoreError } from '../../core/store/errors.ts';
import { readOptional, writeFileAtomic } from './atomic-file.ts';
import type { FsPort } from './fs-port.ts';

export const KEYWORDS_FILE = 'dovecot-keywords';
export const MAX_KEYWORDS = 26;

export type KeywordSlots = readonly (string | undefined)[];

export function parseKeywords(text: string): (string | undefined)[] {
  const slots: (string | undefined)[] = [];
  for (const line of text.split('\n')) {
    const match = /^(\d+) (\S+)$/.exec(line.trimEnd());
    if (!match) continue;
    const index = Number(match[1]);
    if (index < MAX_KEYWORDS) slots[index] = match[2];
  }
  return slots;
}

export function formatKeywords(slots: KeywordSlots): string {
  return slots.map((k, i) => (k === undefined ? '' : `${i} ${k}\n`)).join('');
}

/** Keywords compare case-insensitively; the first spelling stored wins. */
export function keywordSlot(slots: KeywordSlots, keyword: string): number | undefined {
  const key = keyword.toLowerCase();
  const index = slots.findIndex((k) => k !== undefined && k.toLowerCase() === key);
  return index < 0 ? undefined : index;
}

export async function loadKeywords(fs: FsPort, dir: string): Promise<(string | undefined)[]> {
  return parseKeywords((await readOptional(fs, path.join(dir, KEYWORDS_FILE))) ?? '');
}

/**
 * Gives every keyword in `wanted` a slot, writing the file when new ones were added. Call with the folder
 * lock held and `slots` freshly loaded. Returns the (possibly extended) slots.
 */
export async function ensureKeywords(
  fs: FsPort,
  dir: string,
  slots: KeywordSlots,
  wanted: readonly string[],
): Promise<KeywordSlots> {
  const next = [...slots];
  for (const keyword of wanted) {
    if (keywordSlot(next, keyword) !== undefined) continue;
    let free = next.findIndex((k) => k === undefined);
    if (free < 0) free = next.length;
    if (free >= MAX_KEYWORDS) throw new MailStoreError('LIMIT', `too many keywords in this folder (max ${MAX_KEYWORDS})`);
    next[free] = keyword;
  }
  if (next.length !== slots.length || next.some((k, i) => k !== slots[i])) {
    await writeFileAtomic(fs, path.join(dir, KEYWORDS_FILE), formatKeywords(next));
  }
  return next;
}
