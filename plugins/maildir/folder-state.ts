/**
 * One folder's live state inside a store instance, shared by every view of it (folder-base.ts keeps it
 * in step with disk and other processes). Reads are answered from memory; every change is one locked
 * step. Deliveries register their files through a group commit: the ones that finish writing while a
 * registration runs share the next one (one lock, one journal append, one fsync for the batch).
 */
import path from 'node:path';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { MailStoreError } from '../../core/store/errors.ts';
import { applyFlagChange } from '../../core/store/flags.ts';
import type { FlagChange, FlagUpdate, FolderStatus, MessageInfo, UidRange } from '../../core/store/mail-store.ts';
import { lowerBound } from '../../core/store/mail-store.ts';
import { FolderBase, type Step, type StepOptions } from './folder-base.ts';
import { curName, flagsToInfo, infoDeleted, infoSeen, infoToFlags, needsKeywordSlot } from './filename.ts';
import type { Subdir } from './folder-scan.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import type { ChangeSet } from './changes.ts';
import { ensureKeywords, keywordSlot, loadKeywords } from './keywords.ts';
import type { IndexEntry, IndexRecord } from './uid-index.ts';

/** Renames per slice, and the time a slice may take, before the event loop gets its turn (claimRecent). */
const RENAME_SLICE = 64;
const RENAME_SLICE_MS = 4;

export type { FolderHost } from './folder-base.ts';

/** A message file written into this folder, to be given a UID. */
export interface NewFile {
  readonly base: string;
  readonly name: string;
  readonly subdir: Subdir;
  readonly info: string;
  readonly size: number;
  readonly date: number;
}

/** How long one registration step may keep the lock while more deliveries keep arriving. */
const HOLD_MS = 10;

interface Waiting {
  readonly file: NewFile;
  readonly resolve: (uid: number) => void;
  readonly reject: (err: unknown) => void;
}

export class FolderState extends FolderBase {
  /** Delivered files waiting for the registration in progress to take them. */
  private waiting: Waiting[] = [];
  private registering = false;

  override get idle(): boolean {
    return super.idle && !this.registering;
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

  /** Up to `length` bytes of the message from `start` in one buffer, rescanning once when another tool renamed it. */
  async readMessage(uid: number, start: number, length: number): Promise<Buffer> {
    for (let attempt = 0; ; attempt++) {
      const file = this.pathOf(uid);
      if (file === undefined) throw new MailStoreError('EXPUNGEISSUE', `message ${uid} has been expunged`);
      try {
        return await this.host.fs.readRange(file, start, length);
      } catch (err) {
        if (!isErrno(err, 'ENOENT') || attempt > 0) throw err;
      }
      await this.refresh({ force: true });
    }
  }

  entry(uid: number): Readonly<IndexEntry> | undefined {
    return this.index.entries.get(uid);
  }

  /** The UID of the message stored under this base name, if the index has it. */
  uidOf(base: string): number | undefined {
    return this.index.byBase.get(base);
  }

  flagsOf(uid: number): string[] {
    const entry = this.index.entries.get(uid);
    return entry ? infoToFlags(entry.info, this.keywords) : [];
  }

  // ---- changes, each one locked step ----

  /**
   * Moves new/ files to cur/; the caller's session holds \Recent for the returned UIDs. The renames
   * are synchronous, in slices of at most RENAME_SLICE files or RENAME_SLICE_MS with the event loop
   * run between slices: through the thread pool (one after another, or 16 in flight) a first SELECT
   * of a large delivered folder cost 1.5–2× the CPU in pool round trips (bench/imap/prefix-read.ts).
   */
  async claimRecent(): Promise<number[]> {
    return this.step({}, async () => {
      const claimed: number[] = [];
      const uids = [...this.files.newUids];
      let i = 0;
      while (i < uids.length) {
        const started = performance.now();
        for (let n = 0; i < uids.length && n < RENAME_SLICE; n++, i++) {
          const uid = uids[i] ?? 0;
          const entry = this.index.entries.get(uid) as IndexEntry;
          try {
            this.host.fs.renameSync(this.files.path(entry), this.files.curPath(entry));
            claimed.push(uid);
          } catch (err) {
            if (!isErrno(err, 'ENOENT')) throw err; // another process claimed it first
          }
          this.files.settled(uid);
          if (performance.now() - started > RENAME_SLICE_MS) {
            i++;
            break;
          }
        }
        if (i < uids.length) await yieldLoop();
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

  /**
   * Gives a UID to one delivered file (already renamed into new/ or cur/), together with the other
   * deliveries that finish meanwhile (group commit): files that arrive while a batch is being journaled
   * go together in the next one, so a batch costs one journal write and one fsync. While more keep
   * coming, the lock is kept for the next batch too (at most HOLD_MS), which saves taking it again and
   * re-reading the journal's state each time.
   */
  registerDelivered(file: NewFile): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.waiting.push({ file, resolve, reject });
      if (!this.registering) void this.registerWaiting();
    });
  }

  /** Gives UIDs to files just written into this folder (a file a scan found first keeps its UID). */
  async register(files: readonly NewFile[], options: StepOptions = {}): Promise<number[]> {
    return this.step(options, async ({ own }) => this.registerLocked(files, own));
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

  // ---- internals ----

  private async registerWaiting(): Promise<void> {
    this.registering = true;
    try {
      while (this.waiting.length > 0) {
        let batch = this.waiting;
        this.waiting = [];
        try {
          await this.step({}, async (step) => {
            const until = Date.now() + HOLD_MS;
            for (;;) {
              const uids = await this.registerLocked(batch.map((w) => w.file), step.own);
              step.flush(); // sessions hear of the messages before their deliverers do
              const done = batch;
              batch = [];
              done.forEach((w, i) => w.resolve(uids[i]));
              if (this.waiting.length === 0 || Date.now() >= until) return;
              batch = this.waiting;
              this.waiting = [];
            }
          });
        } catch (err) {
          for (const w of batch) w.reject(err);
        }
      }
    } finally {
      this.registering = false;
    }
  }

  private async registerLocked(files: readonly NewFile[], own: ChangeSet): Promise<number[]> {
    const uids: number[] = [];
    const added: number[] = [];
    const records: IndexRecord[] = [];
    const modseq = this.index.header.highestModseq + 1;
    let next = this.index.header.uidNext;
    for (const [i, file] of files.entries()) {
      let uid = this.index.byBase.get(file.base);
      if (uid === undefined) {
        uid = next++;
        added.push(i);
        records.push({ op: 'add', entry: { uid, base: file.base, info: file.info, modseq, date: file.date, size: file.size } });
      }
      uids.push(uid);
    }
    await this.commit(records, own);
    // A file a scan found first is where that scan (or a claim since) put it; ours are where we wrote them.
    for (const i of added) this.files.note(uids[i], files[i]);
    return uids;
  }

  // ---- internals (lock held) ----

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
