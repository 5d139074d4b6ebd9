/**
 * Reads and writes a folder's UID index (uid-index.ts formats) with the folder lock held. The snapshot
 * is replaced atomically (write a temp file, fsync, rename); between snapshots changes are appended to
 * the journal and fsynced, so a delivery costs one short append, not a rewrite of a 100,000-line file.
 * Another process's changes are picked up by reading only the journal bytes added since the last look.
 */
import { constants } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import {
  FolderIndex,
  type IndexRecord,
  formatRecord,
  journalHeader,
  parseJournal,
  parseJournalTail,
  parseSnapshot,
} from './uid-index.ts';

export const SNAPSHOT_FILE = 'pochta-uidlist';
export const JOURNAL_FILE = 'pochta-uidlist.log';
export const LOCK_FILE = 'pochta-uidlist.lock';

/** Compact once the journal outgrows this, or half the snapshot, whichever is larger. */
const MIN_COMPACT_BYTES = 64 * 1024;

/** Read and append, never create: a journal that vanished means the index was replaced. */
const JOURNAL_RW = constants.O_RDWR | constants.O_APPEND;

type Handle = Awaited<ReturnType<FsPort['open']>>;

/** The journal as opened by catchUp for one locked step, so append needs no open, stat and close of its own. */
interface OpenJournal {
  readonly handle: Handle;
  readonly ino: bigint;
  size: number;
}

export class IndexFile {
  private readonly snapshotPath: string;
  private readonly journalPath: string;
  private snapshotIno: bigint | undefined;
  private journalIno: bigint | undefined;
  /** Journal bytes already applied (always at a line boundary). */
  private offset = 0;
  private snapshotBytes = 0;
  private journal: OpenJournal | undefined;

  constructor(
    private readonly fs: FsPort,
    dir: string,
  ) {
    this.snapshotPath = path.join(dir, SNAPSHOT_FILE);
    this.journalPath = path.join(dir, JOURNAL_FILE);
  }

  /** The whole index, or undefined when there is none (or it is unreadable: the folder gets a new UIDVALIDITY). */
  async load(): Promise<FolderIndex | undefined> {
    await this.endStep();
    const snapshot = await this.readWhole(this.snapshotPath);
    const index = snapshot && parseSnapshot(snapshot.text);
    if (!snapshot || !index) return undefined;
    this.snapshotIno = snapshot.ino;
    this.snapshotBytes = Buffer.byteLength(snapshot.text);
    const journal = await this.readWhole(this.journalPath);
    this.journalIno = journal?.ino;
    this.offset = 0;
    if (journal) {
      const { records, consumed } = parseJournal(journal.text, index.header.uidValidity);
      for (const record of records) index.apply(record);
      this.offset = consumed;
    }
    return index;
  }

  /**
   * Applies to `index` what other processes appended since our last look. 'reload' means the snapshot
   * was replaced (compacted or re-created) and the caller must load() again.
   */
  async catchUp(index: FolderIndex): Promise<readonly IndexRecord[] | 'reload'> {
    await this.endStep();
    const [snapshotIno, journal] = await Promise.all([this.inode(this.snapshotPath), this.openJournal()]);
    if (snapshotIno !== this.snapshotIno) return 'reload';
    if (!journal) return this.journalIno === undefined ? [] : 'reload';
    if (journal.ino !== this.journalIno || journal.size < this.offset) return 'reload';
    const length = journal.size - this.offset;
    if (length === 0) return [];
    const buffer = Buffer.alloc(length);
    await journal.handle.read(buffer, 0, length, this.offset);
    const { records, consumed } = parseJournalTail(buffer.toString('utf8'));
    for (const record of records) index.apply(record);
    this.offset += consumed;
    return records;
  }

  /** Journals `records` (fsynced) and applies them to `index`. Call after catchUp, under the lock. */
  async append(index: FolderIndex, records: readonly IndexRecord[]): Promise<void> {
    if (records.length === 0) return;
    let text = records.map(formatRecord).join('');
    // The journal catchUp opened (still ours: under the lock nobody else writes it), else a fresh open.
    const kept = this.journal !== undefined && this.journal.ino === this.journalIno ? this.journal : undefined;
    const handle = kept ? kept.handle : await this.fs.open(this.journalPath, 'a', 0o600);
    try {
      let { ino, size } = kept ?? { ino: 0n, size: 0 };
      if (!kept) {
        const st = await handle.stat({ bigint: true });
        ino = st.ino;
        size = Number(st.size);
      }
      if (size === 0) text = journalHeader(index.header.uidValidity) + text;
      // A torn last line (crash mid-write) is ended here so it cannot swallow our first record.
      else if (size > this.offset) text = '\n' + text;
      const bytes = Buffer.from(text);
      await handle.write(bytes);
      await handle.sync();
      this.journalIno = ino;
      this.offset = size + bytes.byteLength;
      if (kept) kept.size = this.offset;
    } finally {
      if (!kept) await handle.close();
    }
    for (const record of records) index.apply(record);
  }

  /** Closes what catchUp opened; the end of every locked step. */
  async endStep(): Promise<void> {
    const journal = this.journal;
    this.journal = undefined;
    await journal?.handle.close();
  }

  get needsCompaction(): boolean {
    return this.offset > Math.max(MIN_COMPACT_BYTES, this.snapshotBytes / 2);
  }

  /** Writes `index` as the new snapshot and starts an empty journal (also how a new index is created). */
  async compact(index: FolderIndex): Promise<void> {
    await this.endStep(); // the journal is about to be replaced
    const text = index.toSnapshot();
    await writeFileAtomic(this.fs, this.snapshotPath, text);
    const header = journalHeader(index.header.uidValidity);
    await writeFileAtomic(this.fs, this.journalPath, header);
    this.snapshotIno = await this.inode(this.snapshotPath);
    this.journalIno = await this.inode(this.journalPath);
    this.snapshotBytes = Buffer.byteLength(text);
    this.offset = header.length;
  }

  /** Opens the journal for this step (its inode and size from a stat of the path: under the lock, the same file). */
  private async openJournal(): Promise<OpenJournal | undefined> {
    const [opened, st] = await Promise.allSettled([
      this.fs.open(this.journalPath, JOURNAL_RW),
      this.fs.stat(this.journalPath, { bigint: true }),
    ]);
    if (opened.status === 'rejected') {
      if (isErrno(opened.reason, 'ENOENT')) return undefined;
      throw opened.reason;
    }
    if (st.status === 'rejected') {
      await opened.value.close();
      throw st.reason;
    }
    this.journal = { handle: opened.value, ino: st.value.ino, size: Number(st.value.size) };
    return this.journal;
  }

  private async inode(file: string): Promise<bigint | undefined> {
    try {
      return (await this.fs.stat(file, { bigint: true })).ino;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  private async readWhole(file: string): Promise<{ text: string; ino: bigint } | undefined> {
    let handle;
    try {
      handle = await this.fs.open(file, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    try {
      const st = await handle.stat({ bigint: true });
      return { text: await handle.readFile('utf8'), ino: st.ino };
    } finally {
      await handle.close();
    }
  }
}
