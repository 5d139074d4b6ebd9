/**
 * The part of a folder's live state (folder-state.ts) that keeps it in step with the disk and with other
 * processes: the UID index, where each message file is (new/ or cur/), the keyword letters, and the
 * locked step every change runs in: the folder's in-process mutex and its lock file (dotlock.ts), after
 * catching up with what other processes journaled. Message bodies are never read here; a scan is two
 * readdirs plus a stat per file the index does not know.
 */
import path from 'node:path';
import { MailStoreError, isMailStoreError } from '../../core/store/errors.ts';
import type { FlagChange, FolderChange } from '../../core/store/mail-store.ts';
import { ChangeSet } from './changes.ts';
import { type DotlockOptions, withDotlock } from './dotlock.ts';
import { FileLocations } from './file-locations.ts';
import { infoToFlags } from './filename.ts';
import { type DirStamp, dirStamp, sameStamp, scanFolder, statUnknown } from './folder-scan.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import { IndexFile, LOCK_FILE } from './index-file.ts';
import { type KeywordSlots, loadKeywords } from './keywords.ts';
import { folderExists } from './mailbox-layout.ts';
import { Mutex } from './mutex.ts';
import { FolderIndex, type IndexRecord } from './uid-index.ts';

export interface FolderHost {
  readonly fs: FsPort;
  readonly lock: DotlockOptions;
  newUidValidity(userDir: string): Promise<number>;
  emit(change: FolderChange): void;
}

/** What one locked step changed itself, and what it noticed others had changed. */
export interface Step {
  readonly own: ChangeSet;
  readonly seen: ChangeSet;
  /** Reports what was recorded so far now, not at the end of the step (a long step that answers callers as it goes). */
  flush(): void;
}

export interface StepOptions {
  readonly origin?: string;
  readonly external?: boolean;
}

export abstract class FolderBase {
  protected index = new FolderIndex({ uidValidity: 0, uidNext: 1, highestModseq: 1 });
  protected keywords: KeywordSlots = [];
  protected readonly files: FileLocations;
  private readonly file: IndexFile;
  /** new/ and cur/ as of the last scan (taken before listing them); undefined: scan at the next refresh. */
  private stamp: DirStamp | undefined;
  private readonly mutex = new Mutex();
  private dead = false;
  /** Open views and appends holding this state; the store evicts idle states only. */
  refs = 0;

  constructor(
    protected readonly host: FolderHost,
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

  /**
   * Catches up with other processes and, when new/ or cur/ changed (or `force`), rescans them.
   * `scan: false` reads the journal only: enough when the news came from another Pochta process.
   * Our own renames change the directories too, so the first refresh after deliveries rescans; names
   * the index knows cost a lookup each (folder-scan.ts), so that stays cheap for a large folder.
   */
  async refresh(options: StepOptions & { readonly force?: boolean; readonly scan?: boolean } = {}): Promise<void> {
    await this.step(options, async ({ seen }) => {
      if (options.scan === false) return;
      const stamp = await dirStamp(this.host.fs, this.dir);
      if (options.force || !sameStamp(this.stamp, stamp)) await this.scanLocked(stamp, seen);
    });
  }

  /** Where a message's file is now, for a hard link or a read outside the lock. */
  pathOf(uid: number): string | undefined {
    const entry = this.index.entries.get(uid);
    return entry && this.files.path(entry);
  }

  // ---- internals (lock held) ----

  /**
   * Runs `fn` under the mutex and the lock file, after catching up with the journal; then emits. What
   * the step itself did (`own`) carries the caller's origin so its session can skip the echo; what it
   * merely noticed (`seen`: other processes, other tools) is reported to everyone.
   */
  protected async step<T>(options: StepOptions, fn: (step: Step) => Promise<T>): Promise<T> {
    const own = new ChangeSet();
    const seen = new ChangeSet();
    const flush = (): void => {
      const flagsOf = (uid: number): FlagChange | undefined => this.flagChange(uid);
      const events = [...seen.events(this, flagsOf, { external: options.external }), ...own.events(this, flagsOf, options)];
      seen.clear();
      own.clear();
      for (const event of events) this.host.emit(event);
    };
    const step: Step = { own, seen, flush };
    const result = await this.mutex.run(async () => {
      if (this.dead) throw new MailStoreError('NONEXISTENT', `folder ${this.folder} no longer exists`);
      let closed: Promise<void> = Promise.resolve();
      try {
        return await withDotlock(this.host.fs, path.join(this.dir, LOCK_FILE), this.host.lock, async () => {
          try {
            if (this.index.header.uidValidity !== 0) await this.catchUpLocked(step.seen);
            const value = await fn(step);
            if (this.file.needsCompaction) await this.file.compact(this.index);
            return value;
          } finally {
            closed = this.file.endStep().catch(() => undefined); // closes while the lock file is removed
          }
        });
      } catch (err) {
        // The directory is gone (deleted by another process or tool): so is this state.
        if (isMailStoreError(err, 'NONEXISTENT') && !(await folderExists(this.host.fs, this.dir))) this.kill();
        throw err;
      } finally {
        await closed;
      }
    });
    flush();
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
  protected async scanLocked(stamp: DirStamp, changes: ChangeSet): Promise<void> {
    const fs = this.host.fs;
    const { unknown, reflagged, vanished } = await scanFolder(fs, this.dir, this.index, this.files);
    const modseq = this.index.header.highestModseq + 1;
    const records: IndexRecord[] = vanished.map((uid) => ({ op: 'expunge', uid, modseq }));
    // Another tool changed the flags: the new state gets a new mod-sequence (RFC 7162 §3.1).
    for (const [uid, info] of reflagged) records.push({ op: 'flags', uid, modseq, info });
    const stated = await statUnknown(fs, this.dir, unknown.values());
    // Oldest first, so UIDs follow arrival order as far as the files tell it.
    stated.sort((a, b) => a.date - b.date || (a.name < b.name ? -1 : 1));
    let next = this.index.header.uidNext;
    for (const file of stated) {
      const uid = next++;
      records.push({ op: 'add', entry: { uid, base: file.base, info: file.info, modseq, date: file.date, size: file.size } });
      this.files.note(uid, file);
    }
    await this.commit(records, changes);
    this.stamp = stamp;
  }

  protected async commit(records: readonly IndexRecord[], changes: ChangeSet): Promise<void> {
    await this.file.append(this.index, records);
    for (const record of records) changes.record(record);
  }

  /**
   * Runs a file operation on the message's current path; when the file is not there (another tool
   * renamed it) rescans and tries once more. Undefined when the message is gone.
   */
  protected async withFileLocked<T>(uid: number, seen: ChangeSet, op: (file: string) => Promise<T>): Promise<T | undefined> {
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

  protected flagChange(uid: number): FlagChange | undefined {
    const entry = this.index.entries.get(uid);
    return entry && { uid, flags: infoToFlags(entry.info, this.keywords), modseq: entry.modseq };
  }
}
