/**
 * The users file: parse, edit and write it. YAML unless the name ends in `.json`.
 *
 *   users:
 *     alice@example.test:
 *       password: $scrypt$ln=15,r=8,p=1$...$...
 *       name: Alice          # optional
 *       disabled: false      # optional
 *
 * Keys are addresses; they are matched case-insensitively and ids are their lower-cased form.
 * Edits keep the rest of a YAML file (comments, order) as it was. Writes are atomic: a temp file
 * beside it, fsync, rename, fsync the directory; mode 0600; a lock file serialises writers.
 */
import { randomBytes } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import YAML from 'yaml';
import { z } from 'zod';
import { addressProblem, canonicalAddress, splitAddress } from './address.ts';
import { parseHash } from './password.ts';

export interface UserEntry {
  readonly id: string;
  readonly password: string;
  readonly name?: string;
  readonly disabled?: boolean;
}

/** A parsed users file: users by id, and ids by local part (for local-part logins). */
export interface Users {
  readonly byId: ReadonlyMap<string, UserEntry>;
  readonly byLocal: ReadonlyMap<string, readonly string[]>;
}

export type UsersFormat = 'yaml' | 'json';

/** A users file problem; `code` lets the CLI pick an exit status. */
export class UsersFileError extends Error {
  constructor(message: string, readonly code: 'invalid' | 'exists' | 'missing' | 'locked' = 'invalid') {
    super(message);
    this.name = 'UsersFileError';
  }
}

const EntrySchema = z.strictObject({
  password: z.string(),
  name: z.string().optional(),
  disabled: z.boolean().optional(),
});
const FileSchema = z.strictObject({
  users: z.record(z.string(), EntrySchema).nullish(),
});

export function formatOf(file: string): UsersFormat {
  return file.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

function parseTree(text: string, format: UsersFormat): unknown {
  if (format === 'json') return text.trim() ? JSON.parse(text) : {};
  const doc = YAML.parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length) throw doc.errors[0];
  return doc.toJS() ?? {};
}

/** Parse and validate the file's text; throws UsersFileError naming every problem. */
export function parseUsers(text: string, format: UsersFormat): Users {
  let tree: unknown;
  try {
    tree = parseTree(text, format);
  } catch (err) {
    throw new UsersFileError(`not valid ${format.toUpperCase()}: ${(err as Error).message}`);
  }
  const parsed = FileSchema.safeParse(tree);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`);
    throw new UsersFileError(problems.join('; '));
  }
  const byId = new Map<string, UserEntry>();
  const byLocal = new Map<string, string[]>();
  const problems: string[] = [];
  for (const [key, e] of Object.entries(parsed.data.users ?? {})) {
    const bad = addressProblem(key);
    if (bad) { problems.push(`users.${key}: invalid address (${bad})`); continue; }
    const id = canonicalAddress(key);
    if (byId.has(id)) { problems.push(`users.${key}: the same address as another entry (addresses are case-insensitive)`); continue; }
    if (!parseHash(e.password)) { problems.push(`users.${key}.password: not a supported $scrypt$ hash (set it with \`pochta user passwd\`)`); continue; }
    byId.set(id, { id, password: e.password, ...(e.name !== undefined ? { name: e.name } : {}), ...(e.disabled ? { disabled: true } : {}) });
    const { local } = splitAddress(id);
    byLocal.set(local, [...(byLocal.get(local) ?? []), id]);
  }
  if (problems.length) throw new UsersFileError(problems.join('; '));
  return { byId, byLocal };
}

export type UserEdit =
  | { op: 'add'; id: string; password: string; name?: string; disabled?: boolean }
  | { op: 'passwd'; id: string; password: string }
  | { op: 'del'; id: string };

const NEW_FILE_HEADER = ' Users for the auth-file plugin. Manage them with `pochta user add|passwd|del|list`.';

/** The key in `users` that is this id, whatever its case. */
function findKey(keys: Iterable<string>, id: string): string | undefined {
  for (const k of keys) if (canonicalAddress(k) === id) return k;
  return undefined;
}

function editJson(text: string | undefined, edit: UserEdit): string {
  const tree = (text?.trim() ? JSON.parse(text) : {}) as { users?: Record<string, Record<string, unknown>> | null };
  const users = (tree.users ??= {});
  const key = findKey(Object.keys(users), edit.id);
  applyEdit(edit, key, {
    set: (id, entry) => { users[id] = entry; },
    setPassword: (k, hash) => { users[k].password = hash; },
    del: (k) => { delete users[k]; },
  });
  return `${JSON.stringify(tree, null, 2)}\n`;
}

function editYaml(text: string | undefined, edit: UserEdit): string {
  const doc = text?.trim() ? YAML.parseDocument(text, { uniqueKeys: true }) : new YAML.Document({});
  if (doc.errors.length) throw doc.errors[0];
  if (!text?.trim()) doc.commentBefore = NEW_FILE_HEADER;
  let users = doc.get('users');
  if (!YAML.isMap(users)) {
    users = doc.createNode({});
    doc.set('users', users);
  }
  const map = users as YAML.YAMLMap<unknown, unknown>;
  map.flow = false; // `users: {}` or a one-line map: write entries one per line
  const keyOf = (p: YAML.Pair<unknown, unknown>) => String(YAML.isScalar(p.key) ? p.key.value : p.key);
  const key = findKey(map.items.map(keyOf), edit.id);
  applyEdit(edit, key, {
    set: (id, entry) => { map.set(id, doc.createNode(entry)); },
    setPassword: (k, hash) => { map.setIn([k, 'password'], hash); },
    del: (k) => { map.delete(map.items.find((p) => keyOf(p) === k)!.key); },
  });
  return doc.toString({ lineWidth: 0 });
}

function applyEdit(edit: UserEdit, key: string | undefined, ops: {
  set(id: string, entry: Record<string, unknown>): void;
  setPassword(key: string, hash: string): void;
  del(key: string): void;
}): void {
  switch (edit.op) {
    case 'add':
      if (key !== undefined) throw new UsersFileError(`user ${edit.id} already exists (use \`pochta user passwd\` to change the password)`, 'exists');
      ops.set(edit.id, {
        password: edit.password,
        ...(edit.name !== undefined ? { name: edit.name } : {}),
        ...(edit.disabled ? { disabled: true } : {}),
      });
      return;
    case 'passwd':
      if (key === undefined) throw new UsersFileError(`no such user: ${edit.id}`, 'missing');
      ops.setPassword(key, edit.password);
      return;
    case 'del':
      if (key === undefined) throw new UsersFileError(`no such user: ${edit.id}`, 'missing');
      ops.del(key);
      return;
  }
}

/**
 * Apply one edit to the file's text (undefined: no file yet) and return the new text, checked by
 * parsing it back (so an edit never writes a file the server would refuse; an edit may repair the
 * entry it touches). Pure: nothing touches the disk.
 */
export function editUsersText(text: string | undefined, format: UsersFormat, edit: UserEdit): string {
  let out: string;
  try {
    out = format === 'json' ? editJson(text, edit) : editYaml(text, edit);
  } catch (err) {
    if (err instanceof UsersFileError) throw err;
    throw new UsersFileError(`cannot edit the users file: ${(err as Error).message}`);
  }
  parseUsers(out, format);
  return out;
}

function versionOf(s: { ino: number; size: number; mtimeMs: number; dev: number }): string {
  return `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`;
}

/** The file's current version, or 'absent'. A rename-into-place always changes the inode. */
export async function fileVersion(file: string): Promise<string> {
  try {
    return versionOf(await stat(file));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    throw err;
  }
}

/** Read the file's text and the version it was read at (from the same open file); undefined text when absent. */
export async function readUsersText(file: string): Promise<{ text: string | undefined; version: string }> {
  let fh;
  try {
    fh = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: undefined, version: 'absent' };
    throw err;
  }
  try {
    const version = versionOf(await fh.stat());
    return { text: await fh.readFile('utf8'), version };
  } finally {
    await fh.close();
  }
}

/** Replace the file atomically with mode 0600, creating its directory (mode 0700) when needed. */
export async function writeUsersText(file: string, text: string): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const previous = await stat(file).catch(() => undefined);
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    try {
      await fh.writeFile(text, 'utf8');
      await fh.chmod(0o600); // whatever the umask
      // Run as root (e.g. `sudo pochta user add`), keep the file owned by whoever owned it, so the server can still read it.
      if (previous && process.getuid?.() === 0) await fh.chown(previous.uid, previous.gid);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/**
 * Run `fn` holding `<file>.lock` (created exclusively), so two `pochta user` commands cannot
 * lose each other's edits. A lock older than `staleMs` is left over from a crash and taken over.
 */
export async function withUsersLock<T>(file: string, fn: () => Promise<T>, opts: { waitMs?: number; staleMs?: number } = {}): Promise<T> {
  const lock = `${file}.lock`;
  const deadline = Date.now() + (opts.waitMs ?? 5000);
  const staleMs = opts.staleMs ?? 30_000;
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  for (;;) {
    try {
      const fh = await open(lock, 'wx', 0o600);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > staleMs) { await unlink(lock).catch(() => undefined); continue; }
      if (Date.now() > deadline) throw new UsersFileError(`the users file is locked by another command (${lock}); try again, or remove the lock if no command is running`, 'locked');
      await sleep(50);
    }
  }
  try {
    return await fn();
  } finally {
    await unlink(lock).catch(() => undefined);
  }
}

/** Read, edit and write the users file under its lock. */
export async function editUsersFile(file: string, edit: UserEdit): Promise<void> {
  await withUsersLock(file, async () => {
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    await writeUsersText(file, editUsersText(text, formatOf(file), edit));
  });
}
