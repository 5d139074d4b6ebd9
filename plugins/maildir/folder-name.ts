/**
 * Folder names ↔ Maildir++ directories. INBOX is the user's Maildir itself; every other folder is a
 * `.Name` directory beside cur/new/tmp, hierarchy levels joined by "." (`.Lists.ietf`), which is the
 * delimiter IMAP LIST reports. A client names folders, so a name is validated before it becomes a path:
 * after validation it is one directory entry starting with a single dot, and cannot leave the user's
 * Maildir.
 */
import path from 'node:path';
import { MailStoreError } from '../../core/store/errors.ts';
import { INBOX, isInbox } from '../../core/store/mail-store.ts';

export const DELIMITER = '.';

/** Leaves room for the leading dot and for the `..pochta-deleted-…` rename under NAME_MAX (255). */
const MAX_NAME_BYTES = 200;

// C0/C1 controls (NUL, CR, LF …), path separators, and the LIST wildcards (RFC 3501 §6.3.8), which a
// client could never name literally in a pattern.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f/\\*%]/;

/**
 * The canonical form of a folder name ("inbox" → "INBOX", "Inbox.x" → "INBOX.x"), or CANNOT.
 * Rejects empty levels, so ".", "..", ".x", "x.", "a..b" are all invalid.
 */
export function canonicalFolderName(name: string): string {
  const fail = (why: string): never => {
    throw new MailStoreError('CANNOT', `invalid folder name ${JSON.stringify(name)}: ${why}`);
  };
  if (typeof name !== 'string' || name.length === 0) fail('empty');
  if (FORBIDDEN.test(name)) fail('forbidden character');
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) throw new MailStoreError('LIMIT', 'folder name too long');
  const levels = name.split(DELIMITER);
  if (levels.some((level) => level.length === 0)) fail('empty hierarchy level');
  if (isInbox(levels[0])) levels[0] = INBOX;
  return levels.join(DELIMITER);
}

/** The folder's directory inside the user's Maildir. */
export function folderDir(userDir: string, name: string): string {
  const canonical = canonicalFolderName(name);
  if (canonical === INBOX) return userDir;
  const dir = path.join(userDir, DELIMITER + canonical);
  if (path.dirname(dir) !== userDir) throw new MailStoreError('CANNOT', 'folder name escapes the Maildir');
  return dir;
}

/** The folder a directory entry of the user's Maildir stands for, or undefined when it is none. */
export function folderNameFromEntry(entry: string): string | undefined {
  if (!entry.startsWith(DELIMITER) || entry.startsWith(DELIMITER + DELIMITER)) return undefined;
  try {
    const name = canonicalFolderName(entry.slice(1));
    return name === INBOX ? undefined : name; // a stray ".INBOX" would shadow the real one
  } catch {
    return undefined;
  }
}

/** True when `child` sits anywhere below `parent` in the hierarchy. */
export function isInferior(parent: string, child: string): boolean {
  return child.startsWith(parent + DELIMITER);
}
