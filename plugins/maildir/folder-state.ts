/**
 * One folder's live state inside a store instance, shared by every view of it: the UID index, where each
 * message file is (new/ or cur/), the keyword letters. Every change runs under the folder's in-process
 * mutex and its lock file (dotlock.ts), first catching up with what other processes journaled.
 * Message bodies are never read here; a scan is two readdirs plus a stat per file the index does not know.
 */
import path from 'node:path';
import { MailStoreError, isMailStoreError } from '../../core/store/errors.ts';
import { applyFlagChange } from '../../core/store/flags.ts';
import type { FlagChange, FlagUpdate, FolderChange, FolderStatus, MessageInfo, UidRange } from '../../core/store/mail-store.ts';
import { lowerBound } from '../../core/store/mail-store.ts';
import { ChangeSet } from './changes.ts';
import { type DotlockOptions, withDotlock } from './dotlock.ts';
import { curName, flagsToInfo, infoDeleted, infoSeen, infoToFlags, needsKeywordSlot } from './filename.ts';
import { type DirStamp, type ScannedFile, type Subdir, dirStamp, sameStamp, scanFolder, statUnknown } from './folder-scan.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import { IndexFile, LOCK_FILE } from './index-file.ts';
import { type KeywordSlots, ensureKeywords, keywordSlot, loadKeywords } from './keywords.ts';
import { folderExists } from './mailbox-layout.ts';
import { Mutex } from './mutex.ts';
import { FileLocations } from './file-locations.ts';
import { FolderIndex, type IndexEntry, type IndexRecord } from './uid-index.ts';

export interface FolderHost {
  readonly fs: FsPort;
  readonly lock: DotlockOptions;
  newUidValidity(userDir: string): Promise<number>;
  emit(change: FolderChange): void;
}

/** A message file written into this folder, to be given a UID. */
export interface NewFile {
  readonly base: string;
  readonly name: string;
  readonly subdir: Subdir;
  readonly info: string;
  readonly size: number;
  readonly date: number;
}

/** What one locked step changed itself, and what it noticed others had changed. */
interface Step {
  readonly own: ChangeSet;
  readonly seen: ChangeSet;
}

interface StepOptions {
  readonly origin?: string;
  readonly external?: boolean;
}

export class FolderState {
  private index = new FolderIndex({ uidValidity: 0, uidNext: 1, highestModseq: 1 });
  private readonly file: IndexFile;
  private keywords: KeywordSlots = [];
  private readonly files: FileLocations;
  private stamp: DirStamp | undefined;
  private readonly mutex = new Mutex();
  private dead = false;
  /** Open views holding this state; the store evicts idle states only. */
  refs = 0;

  constructor(
    private readonly host: FolderHost,
    readonly user: string,
    readonly folder: string,
    readonly dir: string,
    readonly userDir: string,
  ) {
    this.file = new IndexFile(host.fs, dir);
    this.files = new FileLocations(dir);
  }

  get uidValidity(): number {
    return this.index.header.uidValidity;
  }

  get size(): number {
    return this.index.entries.size;
  }

  get idle(): boolean {
    return this.refs === 0 && this.mutex.idle;
  }

  get alive(): boolean {
    return !this.dead;
  }

  /** First load: the index file, then a scan for what changed while nobody looked. */
  async load(): Promise<void> {
    await this.step({}, async ({ seen }) => {
      const stamp = await dirStamp(this.host.fs, this.dir);
      const loaded = await this.file.load();
      if (loaded) this.index = loaded;
      else {
        const uidValidity = await this.host.newUidValidity(this.userDir);
        this.index = new FolderIndex({ uidValidity, uidNext: 1, highestModseq: 1 });
        await this.file.compact(this.index);
      }
      this.keywords = await loadKeywords(this.host.fs, this.dir);
      await this.scanLocked(stamp, seen);
    });
  }

  /** Marks the folder gone (deleted or renamed away) and tells its sessions. */
  kill(): void {
    if (this.dead) return;
    this.dead = true;
    this.host.emit({ user: this.user, folder: this.folder, kind: 'deleted' });
  }

  // ---- reads, answered from memory ----

  status(): FolderStatus {
    let unseen = 0;
    for (const entry of this.index.entries.values()) if (!infoSeen(entry.info)) unseen++;
    const h = this.index.header;
    return {
      messages: this.index.entries.size,
      recent: this.files.newCount, // \Recent, simply: not yet seen by a session (RFC 3501 §2.3.2)
      unseen,
      uidNext: h.uidNext,
      uidValidity: h.uidValidity,
      highestModseq: h.highestModseq,
    };
  }

  uids(): readonly number[] {
    return this.index.uids();
  }

  messages(range: UidRange = {}): MessageInfo[] {
    const uids = this.index.uids();
    const out: MessageInfo[] = [];
    const to = range.to ?? Infinity;
    const limit = range.limit ?? Infinity;
    for (let i = lowerBound(uids, range.from ?? 1); i < uids.length && out.length < limit; i++) {
      const uid = uids[i];
      if (uid > to) break;
      out.push(this.info(this.index.entries.get(uid) as IndexEntry));
    }
    return out;
  }

  get(uid: number): MessageInfo | undefined {
    const entry = this.index.entries.get(uid);
    return entry && this.info(entry);
  }

  /** Opens the message file, rescanning once when another tool renamed it. */
  async openMessage(uid: number): Promise<Awaited<ReturnType<FsPort['open']>>> {
    for (let attempt = 0; ; attempt++) {
      const file = this.pathOf(uid);
      if (file === undefined) throw new MailStoreError('EXPUNGEISSUE', `message ${uid} has been expunged`);
      try {
        return await this.host.fs.open(file, 'r');
      } catch (err) {
        if (!isErrno(err, 'ENOENT') || attempt > 0) throw err;
      }
      await this.refresh({ force: true });
    }
  }

  /** Where a message's file is now, for a hard link or a read outside the lock. */
  pathOf(uid: number): string | undefined {
    const entry = this.index.entries.get(uid);
    return entry && this.files.path(entry);
  }

  entry(uid: number): Readonly<IndexEntry> | undefined {
    return this.index.entries.get(uid);
  }

  flagsOf(uid: number): string[] {
    const entry = this.index.entries.get(uid);
    return entry ? infoToFlags(entry.info, this.keywords) : [];
  }

  // ---- changes, each one locked step ----

  /**
   * Catches up with other processes and, when new/ or cur/ changed (or `force`), rescans them.
   * `scan: false` reads the journal only: enough when the news came from another Pochta process.
   */
  async refresh(options: StepOptions & { readonly force?: boolean; readonly scan?: boolean } = {}): Promise<void> {
    await this.step(options, async ({ seen }) => {
      if (options.scan === false) return;
      const stamp = await dirStamp(this.host.fs, this.dir);
      if (options.force || !sameStamp(this.stamp, stamp)) await this.scanLocked(stamp, seen);
    });
  }

  /** Moves new/ files to cur/; the caller's session holds \Recent for the returned UIDs. */
  async claimRecent(): Promise<number[]> {
    return this.step({}, async () => {
      const claimed: number[] = [];
      for (const uid of this.files.newUids) {
        const entry = this.index.entries.get(uid) as IndexEntry;
        try {
          await this.host.fs.rename(this.files.path(entry), path.join(this.dir, 'cur', curName(entry.base, entry.info)));
          claimed.push(uid);
        } catch (err) {
          if (!isErrno(err, 'ENOENT')) throw err; // another process claimed it first
        }
        this.files.settled(uid);
      }
      return claimed;
    });
  }

  /** Info letters for each flag list, registering new keywords in this folder first. */
  async infoFor(flagLists: readonly (readonly string[])[]): Promise<string[]> {
    const wanted = [...new Set(flagLists.flat().filter(needsKeywordSlot))];
    if (wanted.some((k) => keywordSlot(this.keywords, k) === undefined)) {
      await this.step({}, async () => {
        this.keywords = await ensureKeywords(this.host.fs, this.dir, await loadKeywords(this.host.fs, this.dir), wanted);
      });
    }
    // Slots are only ever added, so letters computed now stay right after the lock is released.
    return flagLists.map((flags) => this.infoKnown(flags));
  }

  /** Info letters for flags whose keywords already have a slot here (infoFor); others are dropped. */
  infoKnown(flags: readonly string[]): string {
    return flagsToInfo(flags, (k) => keywordSlot(this.keywords, k), '', this.keywords);
  }

  /** Gives UIDs to files just written into this folder (a file a scan found first keeps its UID). */
  async register(files: readonly NewFile[], options: StepOptions = {}): Promise<number[]> {
    return this.step(options, async ({ own }) => {
      const uids: number[] = [];
      const records: IndexRecord[] = [];
      const modseq = this.index.header.highestModseq + 1;
      let next = this.index.header.uidNext;
      for (const file of files) {
        let uid = this.index.byBase.get(file.base);
        if (uid === undefined) {
          uid = next++;
          records.push({ op: 'add', entry: { uid, base: file.base, info: file.info, modseq, date: file.date, size: file.size } });
        }
        uids.push(uid);
      }
      await this.commit(records, own);
      files.forEach((file, i) => this.files.note(uids[i], file));
      return uids;
    });
  }

  async setFlags(uids: readonly number[], update: FlagUpdate, options: StepOptions = {}): Promise<{ changed: FlagChange[]; modified: number[] }> {
    if (update.mode !== 'remove') await this.infoFor([update.flags]);
    return this.step(options, async ({ own, seen }) => {
      const modified: number[] = [];
      const records: IndexRecord[] = [];
      const modseq = this.index.header.highestModseq + 1;
      const next = (entry: IndexEntry): string =>
        flagsToInfo(
          applyFlagChange(infoToFlags(entry.info, this.keywords), update.mode, update.flags),
          (k) => keywordSlot(this.keywords, k),
          entry.info,
          this.keywords,
        );
      for (const uid of uids) {
        const entry = this.index.entries.get(uid);
        if (!entry) continue; // expunged meanwhile: RFC 2180 §4.2 lets STORE ignore it
        if (update.unchangedSince !== undefined && entry.modseq > update.unchangedSince) {
          modified.push(uid);
          continue;
        }
        if (next(entry) === entry.info) continue;
        // Computed again inside: a rescan after ENOENT may have brought another tool's flag change.
        const info = await this.withFileLocked(uid, seen, async (from) => {
          const current = this.index.entries.get(uid) as IndexEntry;
          const info = next(current);
          if (info !== current.info) await this.host.fs.rename(from, path.join(this.dir, 'cur', curName(current.base, info)));
          return info;
        });
        if (info === undefined || info === this.index.entries.get(uid)?.info) continue;
        this.files.settled(uid);
        records.push({ op: 'flags', uid, modseq, info });
      }
      await this.commit(records, own);
      return { changed: [...own.flagged].flatMap((uid) => this.flagChange(uid) ?? []), modified };
    });
  }

  /** Removes the messages flagged \Deleted (among `uids` when given). */
  async expunge(uids: readonly number[] | undefined, options: StepOptions = {}): Promise<number[]> {
    return this.step(options, async (step) => {
      const targets = (uids ?? [...this.index.uids()]).filter((uid) => {
        const entry = this.index.entries.get(uid);
        return entry !== undefined && infoDeleted(entry.info);
      });
      return this.removeLocked(targets, step, (file) => this.host.fs.unlink(file));
    });
  }

  /**
   * MOVE, source side (RFC 6851): renames the files into `destDir` under fresh unique names and expunges
   * them here. The destination registers them afterwards; if we crash in between its next scan does.
   */
  async moveOut(
    uids: readonly number[],
    target: (entry: Readonly<IndexEntry>) => { readonly file: NewFile; readonly path: string },
    options: StepOptions = {},
  ): Promise<{ uids: number[]; files: NewFile[] }> {
    return this.step(options, async (step) => {
      const files: NewFile[] = [];
      const moved = await this.removeLocked(uids, step, async (from, entry) => {
        const { file, path: to } = target(entry);
        await this.host.fs.rename(from, to);
        files.push(file);
      });
      return { uids: moved, files };
    });
  }

  // ---- internals (lock held) ----

  /**
   * Runs `fn` under the mutex and the lock file, after catching up with the journal; then emits. What
   * the step itself did (`own`) carries the caller's origin so its session can skip the echo; what it
   * merely noticed (`seen`: other processes, other tools) is reported to everyone.
   */
  private async step<T>(options: StepOptions, fn: (step: Step) => Promise<T>): Promise<T> {
    const step: Step = { own: new ChangeSet(), seen: new ChangeSet() };
    const result = await this.mutex.run(async () => {
      if (this.dead) throw new MailStoreError('NONEXISTENT', `folder ${this.folder} no longer exists`);
      try {
        return await withDotlock(this.host.fs, path.join(this.dir, LOCK_FILE), this.host.lock, async () => {
          if (this.index.header.uidValidity !== 0) await this.catchUpLocked(step.seen);
          const value = await fn(step);
          if (this.file.needsCompaction) await this.file.compact(this.index);
          return value;
        });
      } catch (err) {
        // The directory is gone (deleted by another process or tool): so is this state.
        if (isMailStoreError(err, 'NONEXISTENT') && !(await folderExists(this.host.fs, this.dir))) this.kill();
        throw err;
      }
    });
    const flagsOf = (uid: number): FlagChange | undefined => this.flagChange(uid);
    const events = [
      ...step.seen.events(this, flagsOf, { external: options.external }),
      ...step.own.events(this, flagsOf, options),
    ];
    for (const event of events) this.host.emit(event);
    return result;
  }

  private async catchUpLocked(changes: ChangeSet): Promise<void> {
    const records = await this.file.catchUp(this.index);
    if (records !== 'reload') {
      for (const record of records) {
        changes.record(record);
        if (record.op === 'add') this.files.guess(record.entry.uid, record.entry.info);
        else this.files.settled(record.uid); // flag changes are written to cur/ under canonical names
      }
      return;
    }
    const fresh = await this.file.load();
    if (!fresh || fresh.header.uidValidity !== this.index.header.uidValidity) {
      this.kill(); // UIDs are no longer valid: sessions must re-select (RFC 3501 §2.3.1.1)
      throw new MailStoreError('NONEXISTENT', `folder ${this.folder} was re-indexed; open it again`);
    }
    changes.diff(this.index, fresh);
    this.index = fresh;
    this.stamp = undefined; // file locations may have changed too
  }

  /** Reconciles the index with new/ and cur/: unknown files get UIDs, vanished ones are expunged. */
  private async scanLocked(stamp: DirStamp, changes: ChangeSet): Promise<void> {
    const fs = this.host.fs;
    const files = await scanFolder(fs, this.dir);
    const missing = (): number[] => {
      const uids: number[] = [];
      for (const entry of this.index.entries.values()) if (!files.has(entry.base)) uids.push(entry.uid);
      return uids;
    };
    let vanished = missing();
    if (vanished.length > 0) {
      // readdir may miss an entry renamed during the listing (POSIX leaves it unspecified): look twice.
      const again = await scanFolder(fs, this.dir);
      for (const [base, file] of again) if (!files.has(base)) files.set(base, file);
      vanished = missing();
    }
    this.files.clear();
    const modseq = this.index.header.highestModseq + 1;
    const records: IndexRecord[] = vanished.map((uid) => ({ op: 'expunge', uid, modseq }));
    const unknownFiles: ScannedFile[] = [];
    for (const file of files.values()) {
      const uid = this.index.byBase.get(file.base);
      if (uid === undefined) {
        unknownFiles.push(file);
        continue;
      }
      this.files.note(uid, file);
      // Another tool changed the flags: the new state gets a new mod-sequence (RFC 7162 §3.1).
      if ((this.index.entries.get(uid) as IndexEntry).info !== file.info) records.push({ op: 'flags', uid, modseq, info: file.info });
    }
    const unknown = await statUnknown(fs, this.dir, unknownFiles);
    // Oldest first, so UIDs follow arrival order as far as the files tell it.
    unknown.sort((a, b) => a.date - b.date || (a.name < b.name ? -1 : 1));
    let next = this.index.header.uidNext;
    for (const file of unknown) {
      const uid = next++;
      records.push({ op: 'add', entry: { uid, base: file.base, info: file.info, modseq, date: file.date, size: file.size } });
      this.files.note(uid, file);
    }
    await this.commit(records, changes);
    this.stamp = stamp;
  }

  private async commit(records: readonly IndexRecord[], changes: ChangeSet): Promise<void> {
    await this.file.append(this.index, records);
    for (const record of records) changes.record(record);
  }

  /**
   * Deletes (or moves away) files and journals their expunge; `act` gets the file's current path.
   * Returns the UIDs this step removed (a file that vanished on its own is reported as `seen`).
   */
  private async removeLocked(
    uids: readonly number[],
    step: Step,
    act: (file: string, entry: Readonly<IndexEntry>) => Promise<void>,
  ): Promise<number[]> {
    const modseq = this.index.header.highestModseq + 1;
    const removed: number[] = [];
    for (const uid of uids) {
      const entry = this.index.entries.get(uid);
      if (!entry) continue;
      const done = await this.withFileLocked(uid, step.seen, async (file) => {
        await act(file, entry);
        return true;
      });
      if (done === undefined) continue;
      removed.push(uid);
      this.files.settled(uid);
    }
    await this.commit(removed.map((uid) => ({ op: 'expunge', uid, modseq })), step.own);
    return removed;
  }

  /**
   * Runs a file operation on the message's current path; when the file is not there (another tool
   * renamed it) rescans and tries once more. Undefined when the message is gone.
   */
  private async withFileLocked<T>(uid: number, seen: ChangeSet, op: (file: string) => Promise<T>): Promise<T | undefined> {
    for (let attempt = 0; ; attempt++) {
      const file = this.pathOf(uid);
      if (file === undefined) return undefined;
      try {
        return await op(file);
      } catch (err) {
        if (!isErrno(err, 'ENOENT') || attempt > 0) throw err;
      }
      await this.scanLocked(await dirStamp(this.host.fs, this.dir), seen);
      if (!this.index.entries.has(uid)) return undefined;
    }
  }

  private flagChange(uid: number): FlagChange | undefined {
    const entry = this.index.entries.get(uid);
    return entry && { uid, flags: infoToFlags(entry.info, this.keywords), modseq: entry.modseq };
  }

  private info(entry: IndexEntry): MessageInfo {
    return {
      uid: entry.uid,
      flags: infoToFlags(entry.info, this.keywords),
      internalDate: new Date(entry.date),
      size: entry.size,
      modseq: entry.modseq,
    };
  }
}

