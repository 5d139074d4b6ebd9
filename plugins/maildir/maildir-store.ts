/**
 * MailStore over Maildir++ directories: `<root>/<domain>/<localpart>/`. Folder states are cached per
 * instance (views share them; idle ones stay in a bounded LRU), and change events go through the
 * instance's EventEmitter, so every session of this process sees the others' changes at once. Changes
 * made by another process reach us through notifyExternal() (fed by a kv relay) or a view's refresh().
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { MailStoreError, isMailStoreError } from '../../core/store/errors.ts';
import { normalizeFlags } from '../../core/store/flags.ts';
import type {
  AppendOptions,
  AppendResult,
  ChangeListener,
  CopyResult,
  FolderChange,
  FolderInfo,
  FolderStatus,
  FolderView,
  MailStore,
  MessageSource,
  SpecialUse,
  UserId,
} from '../../core/store/mail-store.ts';
import { INBOX } from '../../core/store/mail-store.ts';
import { deliver } from './deliver.ts';
import { DEFAULT_DOTLOCK, type DotlockOptions } from './dotlock.ts';
import { curName } from './filename.ts';
import { DELIMITER, canonicalFolderName, folderDir, isInferior } from './folder-name.ts';
import { type FolderHost, FolderState, type NewFile } from './folder-state.ts';
import { MaildirFolderView, type ViewHost } from './folder-view.ts';
import { type FsPort, isErrno, nodeFs, syncDir } from './fs-port.ts';
import {
  DEFAULT_SPECIAL_USE,
  createFolderDir,
  ensureMailbox,
  folderExists,
  listFolderNames,
  nextUidValidity,
  readSubscriptions,
  removeFolderDir,
  updateSubscriptions,
} from './mailbox-layout.ts';
import { UniqueNamer } from './unique-name.ts';
import { userDir } from './user-dir.ts';

export interface MaildirStoreOptions {
  /** Directory holding `<domain>/<localpart>/` Maildirs. */
  readonly root: string;
  /** Goes into unique file names (Maildir spec). */
  readonly hostname: string;
  /** Top-level folder name → RFC 6154 attribute; these folders are created with each new mailbox. */
  readonly specialUse?: Readonly<Record<string, SpecialUse>>;
  readonly lock?: Partial<DotlockOptions>;
  /** Messages kept in memory for folders no view has open (LRU), so deliveries to them stay cheap. */
  readonly idleCacheMessages?: number;
  /** A change listener threw; the store carries on. */
  readonly onListenerError?: (err: unknown) => void;
  readonly fs?: FsPort;
}

interface User {
  readonly id: string;
  readonly dir: string;
}

const ALL = Symbol('all changes');
const MAX_KNOWN_MAILBOXES = 10_000;

export class MaildirStore implements MailStore, ViewHost {
  readonly delimiter = DELIMITER;
  private readonly fs: FsPort;
  private readonly root: string;
  private readonly namer: UniqueNamer;
  private readonly specialUse: Readonly<Record<string, SpecialUse>>;
  private readonly lock: DotlockOptions;
  private readonly idleCacheMessages: number;
  private readonly onListenerError: (err: unknown) => void;
  private readonly emitter = new EventEmitter();
  /** Folder dir → its state (or its load in progress). */
  private readonly states = new Map<string, Promise<FolderState>>();
  /** Folder dir → state nobody holds, oldest first. */
  private readonly idle = new Map<string, FolderState>();
  /** User dir → mailbox creation, so concurrent first deliveries create it once. */
  private readonly mailboxes = new Map<string, Promise<boolean>>();
  private readonly host: FolderHost;

  constructor(options: MaildirStoreOptions) {
    this.fs = options.fs ?? nodeFs;
    this.root = path.resolve(options.root);
    this.namer = new UniqueNamer(options.hostname);
    this.specialUse = options.specialUse ?? DEFAULT_SPECIAL_USE;
    this.lock = { ...DEFAULT_DOTLOCK, ...options.lock };
    this.idleCacheMessages = options.idleCacheMessages ?? 250_000;
    this.onListenerError = options.onListenerError ?? (() => undefined);
    this.emitter.setMaxListeners(0); // one listener per session; thousands are expected
    this.host = {
      fs: this.fs,
      lock: this.lock,
      newUidValidity: (dir) => nextUidValidity(this.fs, dir),
      emit: (change) => this.emit(change),
    };
  }

  // ---- folders ----

  async listFolders(user: UserId): Promise<readonly FolderInfo[]> {
    const u = await this.mailbox(user);
    const existing = new Set([INBOX, ...(await listFolderNames(this.fs, u.dir))]);
    const subscribed = new Set(await readSubscriptions(this.fs, u.dir));
    const names = [...new Set([...existing, ...subscribed])].sort((a, b) =>
      a === INBOX ? -1 : b === INBOX ? 1 : a < b ? -1 : a > b ? 1 : 0,
    );
    return names.map((name) => {
      const specialUse = this.specialUse[name];
      return {
        name,
        ...(specialUse && { specialUse }),
        subscribed: subscribed.has(name),
        exists: existing.has(name),
        hasChildren: [...existing].some((n) => isInferior(name, n)),
      };
    });
  }

  async createFolder(user: UserId, name: string): Promise<void> {
    const u = await this.mailbox(user);
    await createFolderDir(this.fs, u.dir, canonicalFolderName(name));
  }

  async deleteFolder(user: UserId, name: string): Promise<void> {
    const u = await this.mailbox(user);
    const folder = canonicalFolderName(name);
    if (folder === INBOX) throw new MailStoreError('CANNOT', 'INBOX cannot be deleted');
    await removeFolderDir(this.fs, u.dir, folder);
    await this.forget(u, folder);
  }

  async renameFolder(user: UserId, from: string, to: string): Promise<void> {
    const u = await this.mailbox(user);
    const source = canonicalFolderName(from);
    const target = canonicalFolderName(to);
    if (target === INBOX || source === target) throw new MailStoreError('ALREADYEXISTS', `folder ${target} already exists`);
    if (isInferior(source, target)) throw new MailStoreError('CANNOT', 'cannot move a folder below itself');
    if (source === INBOX) return this.renameInbox(u, target);
    const existing = await listFolderNames(this.fs, u.dir);
    if (!existing.includes(source)) throw new MailStoreError('NONEXISTENT', `folder ${source} does not exist`);
    const moving = existing.filter((n) => n === source || isInferior(source, n));
    const renamed = (n: string): string => target + n.slice(source.length);
    for (const n of moving) {
      if (existing.includes(renamed(n))) throw new MailStoreError('ALREADYEXISTS', `folder ${renamed(n)} already exists`);
    }
    for (const n of moving) {
      await this.fs.rename(folderDir(u.dir, n), folderDir(u.dir, renamed(n)));
      await this.forget(u, n);
    }
    await syncDir(this.fs, u.dir);
    await updateSubscriptions(this.fs, u.dir, (names) =>
      names.map((n) => (n === source || isInferior(source, n) ? renamed(n) : n)),
    );
  }

  async subscribe(user: UserId, name: string): Promise<void> {
    const u = await this.mailbox(user);
    const folder = canonicalFolderName(name);
    await updateSubscriptions(this.fs, u.dir, (names) => [...names, folder]);
  }

  async unsubscribe(user: UserId, name: string): Promise<void> {
    const u = await this.mailbox(user);
    const folder = canonicalFolderName(name);
    await updateSubscriptions(this.fs, u.dir, (names) => names.filter((n) => n !== folder));
  }

  async status(user: UserId, name: string): Promise<FolderStatus> {
    const state = await this.acquire(await this.mailbox(user), name);
    try {
      return state.status();
    } finally {
      this.release(state);
    }
  }

  async open(user: UserId, name: string, options: { readonly readOnly?: boolean } = {}): Promise<FolderView> {
    const state = await this.acquire(await this.mailbox(user), name);
    const view = new MaildirFolderView(this, state, options.readOnly ?? false);
    try {
      await view.claimRecent();
    } catch (err) {
      await view.close();
      throw err;
    }
    return view;
  }

  // ---- messages ----

  async append(user: UserId, folder: string, source: MessageSource, options: AppendOptions = {}): Promise<AppendResult> {
    const u = await this.mailbox(user);
    const name = canonicalFolderName(folder);
    const flags = normalizeFlags(options.flags ?? []);
    if (options.create && !(await folderExists(this.fs, folderDir(u.dir, name)))) {
      await createFolderDir(this.fs, u.dir, name).catch((err: unknown) => {
        if (!isMailStoreError(err, 'ALREADYEXISTS')) throw err;
      });
    }
    const state = await this.acquire(u, name);
    try {
      const [info = ''] = await state.infoFor([flags]);
      const delivered = await deliver(this.fs, this.namer, source, {
        dir: state.dir,
        info,
        ...(options.internalDate && { internalDate: options.internalDate }),
      }).catch(async (err: unknown) => {
        // tmp/ vanished under us: the folder was deleted meanwhile (a missing source file is not that).
        if (isErrno(err, 'ENOENT') && !(await folderExists(this.fs, state.dir))) {
          throw new MailStoreError('NONEXISTENT', `folder ${name} does not exist`, { cause: err });
        }
        throw err;
      });
      const [uid] = await state.register([
        {
          base: delivered.base,
          name: delivered.filename,
          subdir: delivered.subdir,
          info,
          size: delivered.size,
          date: delivered.internalDate.getTime(),
        },
      ]);
      return { uidValidity: state.uidValidity, uid: uid };
    } finally {
      this.release(state);
    }
  }

  /** COPY (RFC 3501 §6.4.7, COPYUID RFC 4315): hard links under new names, flags and date kept. */
  async copy(from: FolderState, uids: readonly number[], destination: string): Promise<CopyResult> {
    const dest = await this.acquire({ id: from.user, dir: from.userDir }, destination);
    try {
      const present = uids.filter((uid) => from.entry(uid) !== undefined);
      await dest.infoFor(present.map((uid) => from.flagsOf(uid)));
      const sourceUids: number[] = [];
      const files: NewFile[] = [];
      for (const uid of present) {
        const file = await this.copyOne(from, uid, dest);
        if (!file) continue; // expunged meanwhile
        sourceUids.push(uid);
        files.push(file);
      }
      await this.syncMessageDirs(dest, files);
      const destUids = await dest.register(files);
      return { uidValidity: dest.uidValidity, sourceUids, destUids };
    } finally {
      this.release(dest);
    }
  }

  /** MOVE (RFC 6851): each file is renamed into the destination, then expunged from the source. */
  async move(from: FolderState, uids: readonly number[], destination: string, origin: string): Promise<CopyResult> {
    const dest = await this.acquire({ id: from.user, dir: from.userDir }, destination);
    try {
      await dest.infoFor(uids.filter((uid) => from.entry(uid) !== undefined).map((uid) => from.flagsOf(uid)));
      const { uids: sourceUids, files } = await from.moveOut(
        uids,
        (entry) => {
          const file = this.newFile(entry.size, entry.date, dest.infoKnown(from.flagsOf(entry.uid)));
          return { file, path: path.join(dest.dir, file.subdir, file.name) };
        },
        { origin },
      );
      await this.syncMessageDirs(dest, files);
      const destUids = await dest.register(files);
      return { uidValidity: dest.uidValidity, sourceUids, destUids };
    } finally {
      this.release(dest);
    }
  }

  // ---- change notification ----

  watch(user: UserId, folder: string, listener: ChangeListener): () => void {
    return this.listen(eventKey(this.user(user).id, canonicalFolderName(folder)), listener);
  }

  watchAll(listener: ChangeListener): () => void {
    return this.listen(ALL, listener);
  }

  /**
   * Another process changed a folder (news from a kv relay). A folder held here is brought up to date
   * from its journal, which yields exact events; otherwise the news is passed on as it came.
   */
  async notifyExternal(change: FolderChange): Promise<void> {
    const u = this.user(change.user);
    const folder = canonicalFolderName(change.folder);
    const state = await this.loaded(folderDir(u.dir, folder));
    if (!state) {
      this.emit({ ...change, user: u.id, folder, external: true });
      return;
    }
    try {
      await state.refresh({ external: true, scan: false });
    } catch (err) {
      if (!isMailStoreError(err, 'NONEXISTENT')) throw err;
      await this.forget(u, folder);
    }
  }

  async close(): Promise<void> {
    this.emitter.removeAllListeners();
    this.states.clear();
    this.idle.clear();
    this.mailboxes.clear();
  }

  // ---- internals ----

  release(state: FolderState): void {
    state.refs--;
    if (state.refs > 0) return;
    this.idle.delete(state.dir);
    if (!state.alive) return;
    this.idle.set(state.dir, state);
    let total = 0;
    for (const s of this.idle.values()) total += s.size;
    for (const [dir, s] of this.idle) {
      if (total <= this.idleCacheMessages) break;
      if (!s.idle) continue;
      this.idle.delete(dir);
      this.states.delete(dir);
      total -= s.size;
    }
  }

  private async acquire(u: User, name: string): Promise<FolderState> {
    const folder = canonicalFolderName(name);
    const dir = folderDir(u.dir, folder);
    let pending = this.states.get(dir);
    let fresh = false;
    if (!pending) {
      fresh = true;
      pending = (async () => {
        if (!(await folderExists(this.fs, dir))) throw new MailStoreError('NONEXISTENT', `folder ${folder} does not exist`);
        const state = new FolderState(this.host, u.id, folder, dir, u.dir);
        await state.load();
        return state;
      })();
      this.states.set(dir, pending);
      pending.catch(() => this.states.get(dir) === pending && this.states.delete(dir));
    }
    const state = await pending;
    if (!state.alive) {
      if (this.states.get(dir) === pending) this.states.delete(dir);
      return this.acquire(u, name);
    }
    state.refs++;
    this.idle.delete(dir);
    if (!fresh) {
      try {
        await state.refresh();
      } catch (err) {
        this.release(state);
        // Deleted or re-indexed behind our back: start over from disk (NONEXISTENT if really gone).
        if (!state.alive) return this.acquire(u, name);
        throw err;
      }
    }
    return state;
  }

  private async loaded(dir: string): Promise<FolderState | undefined> {
    const state = await this.states.get(dir)?.catch(() => undefined);
    return state?.alive ? state : undefined;
  }

  /** A folder went away (deleted, renamed): its state dies, its sessions hear 'deleted'. */
  private async forget(u: User, folder: string): Promise<void> {
    const dir = folderDir(u.dir, folder);
    const state = await this.loaded(dir);
    this.states.delete(dir);
    this.idle.delete(dir);
    if (state) state.kill();
    else this.emit({ user: u.id, folder, kind: 'deleted' });
  }

  /** RFC 3501 §6.3.5: renaming INBOX moves its messages to the new folder and leaves INBOX empty. */
  private async renameInbox(u: User, target: string): Promise<void> {
    await createFolderDir(this.fs, u.dir, target);
    const inbox = await this.acquire(u, INBOX);
    try {
      await this.move(inbox, inbox.uids(), target, '');
    } finally {
      this.release(inbox);
    }
  }

  private async copyOne(from: FolderState, uid: number, dest: FolderState): Promise<NewFile | undefined> {
    for (let attempt = 0; ; attempt++) {
      const entry = from.entry(uid);
      const source = from.pathOf(uid);
      if (!entry || source === undefined) return undefined;
      const info = dest.infoKnown(from.flagsOf(uid));
      const file = this.newFile(entry.size, entry.date, info);
      try {
        await this.fs.link(source, path.join(dest.dir, file.subdir, file.name));
        return file;
      } catch (err) {
        if (isErrno(err, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) {
          // No hard links here: copy the bytes (streamed) instead.
          const copied = await deliver(this.fs, this.namer, { path: source }, { dir: dest.dir, info, internalDate: new Date(entry.date) });
          return { ...file, base: copied.base, name: copied.filename, size: copied.size };
        }
        if (!isErrno(err, 'ENOENT') || attempt > 0) throw err;
      }
      await from.refresh({ force: true }); // renamed by another tool: find it again
    }
  }

  private newFile(size: number, date: number, info: string): NewFile {
    const base = `${this.namer.next()},S=${size}`;
    const subdir = info === '' ? 'new' : 'cur';
    return { base, name: subdir === 'new' ? base : curName(base, info), subdir, info, size, date };
  }

  /** The links/renames into the destination survive a crash once its directories are synced. */
  private async syncMessageDirs(dest: FolderState, files: readonly NewFile[]): Promise<void> {
    for (const subdir of new Set(files.map((f) => f.subdir))) await syncDir(this.fs, path.join(dest.dir, subdir));
  }

  private user(user: UserId): User {
    const dir = userDir(this.root, user);
    return { id: `${path.basename(dir)}@${path.basename(path.dirname(dir))}`, dir };
  }

  /** Resolves the user and creates the Maildir on first use. */
  private async mailbox(user: UserId): Promise<User> {
    const u = this.user(user);
    let pending = this.mailboxes.get(u.dir);
    if (!pending) {
      if (this.mailboxes.size >= MAX_KNOWN_MAILBOXES) this.mailboxes.clear();
      pending = ensureMailbox(this.fs, u.dir, Object.keys(this.specialUse));
      this.mailboxes.set(u.dir, pending);
      pending.catch(() => this.mailboxes.delete(u.dir));
    }
    await pending;
    return u;
  }

  private emit(change: FolderChange): void {
    this.emitter.emit(eventKey(change.user, change.folder), change);
    this.emitter.emit(ALL, change);
  }

  private listen(key: string | symbol, listener: ChangeListener): () => void {
    const safe = (change: FolderChange): void => {
      try {
        listener(change);
      } catch (err) {
        this.onListenerError(err);
      }
    };
    this.emitter.on(key, safe);
    return () => this.emitter.off(key, safe);
  }
}

function eventKey(user: string, folder: string): string {
  return `${user}\u0000${folder}`;
}
