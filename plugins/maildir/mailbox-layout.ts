/**
 * The directories and small files of one user's Maildir++ (https://www.courier-mta.org/imap/README.maildirquota.html):
 *
 *   <user>/cur new tmp          INBOX
 *   <user>/.Sent/cur new tmp    a folder, with an empty `maildirfolder` file as Courier and Dovecot expect
 *   <user>/subscriptions        subscribed folder names, one per line (the Courier/Dovecot file)
 *   <user>/pochta-uidvalidity   the last UIDVALIDITY handed out, so a re-created folder never repeats one
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { MailStoreError } from '../../core/store/errors.ts';
import type { SpecialUse } from '../../core/store/mail-store.ts';
import { readOptional, writeFileAtomic } from './atomic-file.ts';
import { DEFAULT_DOTLOCK, withDotlock } from './dotlock.ts';
import { folderDir, folderNameFromEntry } from './folder-name.ts';
import { type FsPort, isErrno, syncDir } from './fs-port.ts';

export const SUBSCRIPTIONS_FILE = 'subscriptions';
export const UIDVALIDITY_FILE = 'pochta-uidvalidity';
/** Entries starting with ".." are never folders (a valid name has no empty level): safe for our scratch dirs. */
const SCRATCH_PREFIX = '..pochta-';

/** RFC 6154 special-use folders, created with every new mailbox. */
export const DEFAULT_SPECIAL_USE: Readonly<Record<string, SpecialUse>> = {
  Sent: '\\Sent',
  Drafts: '\\Drafts',
  Junk: '\\Junk',
  Trash: '\\Trash',
  Archive: '\\Archive',
};

export async function folderExists(fs: FsPort, dir: string): Promise<boolean> {
  try {
    return (await fs.stat(path.join(dir, 'cur'))).isDirectory();
  } catch (err) {
    if (isErrno(err, 'ENOENT', 'ENOTDIR')) return false;
    throw err;
  }
}

/**
 * Creates the user's Maildir on first use: INBOX, then the special-use folders, subscribed.
 * Returns false when it already existed.
 */
export async function ensureMailbox(fs: FsPort, userDir: string, specialUse: readonly string[]): Promise<boolean> {
  if (await folderExists(fs, userDir)) return false;
  await fs.mkdir(userDir, { recursive: true, mode: 0o700 });
  for (const sub of ['tmp', 'new', 'cur']) await fs.mkdir(path.join(userDir, sub), { recursive: true, mode: 0o700 });
  for (const name of specialUse) {
    try {
      await createFolderDir(fs, userDir, name);
    } catch (err) {
      if (!(err instanceof MailStoreError && err.code === 'ALREADYEXISTS')) throw err;
    }
  }
  await updateSubscriptions(fs, userDir, (names) => [...names, ...specialUse]);
  await syncDir(fs, path.dirname(userDir));
  return true;
}

/**
 * Creates a folder directory fully (cur/new/tmp, maildirfolder) under a scratch name, then renames it
 * into place, so no reader ever sees a half-made folder.
 */
export async function createFolderDir(fs: FsPort, userDir: string, name: string): Promise<void> {
  const dir = folderDir(userDir, name);
  if (dir === userDir || (await pathExists(fs, dir))) throw new MailStoreError('ALREADYEXISTS', `folder ${name} already exists`);
  const scratch = scratchDir(userDir, 'new');
  await fs.mkdir(scratch, { mode: 0o700 });
  try {
    for (const sub of ['tmp', 'new', 'cur']) await fs.mkdir(path.join(scratch, sub), { mode: 0o700 });
    await (await fs.open(path.join(scratch, 'maildirfolder'), 'w', 0o600)).close();
    if (await pathExists(fs, dir)) throw new MailStoreError('ALREADYEXISTS', `folder ${name} already exists`);
    await fs.rename(scratch, dir);
  } catch (err) {
    await fs.rm(scratch, { recursive: true, force: true });
    // Lost a race with a concurrent create: rename onto a non-empty directory fails.
    if (isErrno(err, 'ENOTEMPTY', 'EEXIST')) throw new MailStoreError('ALREADYEXISTS', `folder ${name} already exists`);
    throw err;
  }
  await syncDir(fs, userDir);
}

/** Removes a folder: renamed away first (atomic for readers), then deleted. */
export async function removeFolderDir(fs: FsPort, userDir: string, name: string): Promise<void> {
  const dir = folderDir(userDir, name);
  const scratch = scratchDir(userDir, 'deleted');
  try {
    await fs.rename(dir, scratch);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new MailStoreError('NONEXISTENT', `folder ${name} does not exist`);
    throw err;
  }
  await syncDir(fs, userDir);
  await fs.rm(scratch, { recursive: true, force: true });
}

/** Names of the existing folders other than INBOX (unsorted). Symlinks are not followed. */
export async function listFolderNames(fs: FsPort, userDir: string): Promise<string[]> {
  const entries = await fs.readdir(userDir, { withFileTypes: true });
  return entries.flatMap((e) => {
    const name = e.isDirectory() ? folderNameFromEntry(e.name) : undefined;
    return name === undefined ? [] : [name];
  });
}

export async function readSubscriptions(fs: FsPort, userDir: string): Promise<string[]> {
  const text = (await readOptional(fs, path.join(userDir, SUBSCRIPTIONS_FILE))) ?? '';
  return text.split('\n').filter((line) => line.length > 0);
}

/** Read-modify-write of the subscriptions file under a lock file, so two sessions cannot lose an update. */
export async function updateSubscriptions(
  fs: FsPort,
  userDir: string,
  change: (names: string[]) => string[],
): Promise<void> {
  const file = path.join(userDir, SUBSCRIPTIONS_FILE);
  await withDotlock(fs, `${file}.lock`, DEFAULT_DOTLOCK, async () => {
    const before = await readSubscriptions(fs, userDir);
    const after = [...new Set(change(before))];
    if (after.join('\n') !== before.join('\n')) {
      await writeFileAtomic(fs, file, after.map((n) => `${n}\n`).join(''));
    }
  });
}

/**
 * A fresh UIDVALIDITY for a new (or re-indexed) folder: the time in seconds, or one more than the last
 * one given out, whichever is larger. RFC 3501 §2.3.1.1: a re-created name must not get an old value.
 */
export async function nextUidValidity(fs: FsPort, userDir: string): Promise<number> {
  const file = path.join(userDir, UIDVALIDITY_FILE);
  return withDotlock(fs, `${file}.lock`, DEFAULT_DOTLOCK, async () => {
    const last = Number((await readOptional(fs, file))?.trim() ?? 0) || 0;
    const next = Math.min(Math.max(Math.floor(Date.now() / 1000), last + 1), 0xffffffff); // nz-number, 32 bits
    await writeFileAtomic(fs, file, `${next}\n`);
    return next;
  });
}

function scratchDir(userDir: string, purpose: string): string {
  return path.join(userDir, `${SCRATCH_PREFIX}${purpose}-${randomBytes(6).toString('hex')}`);
}

async function pathExists(fs: FsPort, file: string): Promise<boolean> {
  try {
    await fs.stat(file);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return false;
    throw err;
  }
}
