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
import { writeMessage } from './deliver.ts';
import { DirSyncs } from '../../core/fs/dir-syncs.ts';
import { DEFAULT_DOTLOCK, DotlockOwners, type DotlockOptions } from './dotlock.ts';
import { DELIMITER, canonicalFolderName, folderDir, isInferior } from './folder-name.ts';
import { FolderCache, type Mailbox } from './folder-cache.ts';
import { type FolderHost, FolderState, type NewFile } from './folder-state.ts';
import { MaildirFolderView, type ViewHost } from './folder-view.ts';
import { type FsPort, isErrno, nodeFs, syncDir } from './fs-port.ts';
import { readPrefixes } from './prefix-reader.ts';
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
import { type CopyContext, copyMessages, moveMessages } from './message-copy.ts';
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

type User = Mailbox;

const ALL = Symbol('all changes');
const MAX_KNOWN_MAILBOXES = 10_000;

export class MaildirStore implements MailStore, ViewHost {
  readonly delimiter = DELIMITER;
  private readonly fs: FsPort;
  private readonly root: string;
  private readonly namer: UniqueNamer;
  private readonly specialUse: Readonly<Record<string, SpecialUse>>;
  private readonly lock: DotlockOptions;
  /** The lock owner files this store made (dotlock.ts), kept while it runs so locking frees no inodes. */
  private readonly lockOwners = new DotlockOwners();
  private readonly onListenerError: (err: unknown) => void;
  private readonly emitter = new EventEmitter();
  private readonly folders: FolderCache;
  /** Coalesced fsyncs of new/ and cur/ directories after deliveries, copies and moves. */
  private readonly dirSyncs: DirSyncs;
  private readonly copying: CopyContext;
  /** User dir → mailbox creation, so concurrent first deliveries create it once. */
  private readonly mailboxes = new Map<string, Promise<boolean>>();

  constructor(options: MaildirStoreOptions) {
    this.fs = options.fs ?? nodeFs;
    this.root = path.resolve(options.root);
    this.namer = new UniqueNamer(options.hostname);
    this.specialUse = options.specialUse ?? DEFAULT_SPECIAL_USE;
    this.lock = { ...DEFAULT_DOTLOCK, ...options.lock, owners: this.lockOwners };
    this.onListenerError = options.onListenerError ?? (() => undefined);
    this.emitter.setMaxListeners(0); // one listener per session; thousands are expected
    this.dirSyncs = new DirSyncs(this.fs);
    this.copying = { fs: this.fs, namer: this.namer, dirSyncs: this.dirSyncs };
    const host: FolderHost = {
      fs: this.fs,
      lock: this.lock,
      newUidValidity: (dir) => nextUidValidity(this.fs, dir),
      emit: (change) => this.emit(change),
    };
    this.folders = new FolderCache(host, options.idleCacheMessages ?? 250_000);
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

  /**
   * Maildir delivery needs no lock: the file is written to tmp/, fsynced and renamed into new/ (cur/ with
   * flags) outside the folder lock, then given a UID in a group commit with the other deliveries that
   * finished meanwhile, while the directory fsync (shared likewise) makes the rename durable. No rescan:
   * the registration catches up with the journal under the lock, which is all a new UID needs; files
   * other tools dropped are picked up by the next scan (a view's open or refresh).
   */
  async append(user: UserId, folder: string, source: MessageSource, options: AppendOptions = {}): Promise<AppendResult> {
    const u = await this.mailbox(user);
    const name = canonicalFolderName(folder);
    const flags = normalizeFlags(options.flags ?? []);
    const state = await this.acquire(u, name, { refresh: false }).catch(async (err: unknown) => {
      if (!options.create || !isMailStoreError(err, 'NONEXISTENT')) throw err;
      await createFolderDir(this.fs, u.dir, name).catch((e: unknown) => {
        if (!isMailStoreError(e, 'ALREADYEXISTS')) throw e;
      });
      return this.acquire(u, name, { refresh: false });
    });
    try {
      const [info = ''] = await state.infoFor([flags]);
      const written = await writeMessage(this.fs, this.namer, source, {
        dir: state.dir,
        info,
        ...(options.internalDate && { internalDate: options.internalDate }),
      }).catch(async (err: unknown) => {
        // tmp/ vanished under us: the folder was deleted meanwhile (a missing source file is not that).
        // Its state goes, so a retry finds it missing (and creates it again when asked to).
        if (isErrno(err, 'ENOENT') && !(await folderExists(this.fs, state.dir))) {
          await this.forget(u, name);
          throw new MailStoreError('NONEXISTENT', `folder ${name} does not exist`, { cause: err });
        }
        throw err;
      });
      const file: NewFile = {
        base: written.base,
        name: written.filename,
        subdir: written.subdir,
        info,
        size: written.size,
        date: written.internalDate.getTime(),
      };
      const [result] = await Promise.all([
        this.registerDelivered(u, name, state, file),
        this.dirSyncs.sync(path.join(state.dir, file.subdir)),
      ]);
      return result;
    } finally {
      this.release(state);
    }
  }

  /** The UID of a delivered file; if the folder was re-indexed meanwhile, the UID its new index gave it. */
  private async registerDelivered(u: User, name: string, state: FolderState, file: NewFile): Promise<AppendResult> {
    try {
      const uid = await state.registerDelivered(file);
      return { uidValidity: state.uidValidity, uid };
    } catch (err) {
      if (state.alive) throw err;
      // A fresh state (NONEXISTENT if the folder is really gone) scanned the folder: the file has a UID
      // there unless it went away with the old folder.
      const fresh = await this.acquire(u, name);
      try {
        const uid = fresh.uidOf(file.base);
        if (uid === undefined) throw err;
        return { uidValidity: fresh.uidValidity, uid };
      } finally {
        this.release(fresh);
      }
    }
  }

  /** COPY (RFC 3501 §6.4.7, COPYUID RFC 4315): hard links under new names, flags and date kept. */
  async copy(from: FolderState, uids: readonly number[], destination: string, origin?: string): Promise<CopyResult> {
    const dest = await this.acquire({ id: from.user, dir: from.userDir }, destination);
    try {
      return await copyMessages(this.copying, from, uids, dest, origin);
    } finally {
      this.release(dest);
    }
  }

  /** MOVE (RFC 6851): each file is renamed into the destination, then expunged from the source. */
  async move(from: FolderState, uids: readonly number[], destination: string, origin: string): Promise<CopyResult> {
    const dest = await this.acquire({ id: from.user, dir: from.userDir }, destination);
    try {
      return await moveMessages(this.copying, from, uids, dest, origin);
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
    const state = await this.folders.loaded(folderDir(u.dir, folder));
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
    this.folders.clear();
    this.mailboxes.clear();
    await this.lockOwners.removeAll(this.fs);
  }

  // ---- internals ----

  release(state: FolderState): void {
    this.folders.release(state);
  }

  /** ViewHost: the first bytes of many messages of a folder (IMAP FETCH ENVELOPE of a whole folder). */
  readPrefixes(from: FolderState, uids: readonly number[], length: number, each: (uid: number, bytes: Buffer | undefined) => void): Promise<void> {
    return readPrefixes(this.fs, from, uids, length, each);
  }

  private acquire(u: User, name: string, options: { readonly refresh?: boolean } = {}): Promise<FolderState> {
    return this.folders.acquire(u, canonicalFolderName(name), options);
  }

  private forget(u: User, folder: string): Promise<void> {
    return this.folders.forget(u, folder);
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
