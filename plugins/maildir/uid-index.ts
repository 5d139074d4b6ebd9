/**
 * The UID state of one folder, in memory, and its text forms. RFC 3501 §2.3.1.1: UIDs ascend, are never
 * reused within a UIDVALIDITY, and survive restarts, so the uid ↔ file map is kept on disk:
 *
 *   pochta-uidlist      snapshot, replaced atomically:  `pochta-uidlist 1 V<validity> N<uidnext> M<modseq>`
 *                       then one line per message:      `<uid> <modseq> <date-ms> <size> <info|-> <base>`
 *   pochta-uidlist.log  journal of changes since then:  `+ <uid> <modseq> <date-ms> <size> <info|-> <base>`
 *                                                       `f <uid> <modseq> <info|->`  `- <uid> <modseq>`
 *
 * Records set values (never increment), so replaying the journal over a snapshot that already contains
 * it changes nothing: a crash between writing a new snapshot and emptying the journal is harmless.
 * `info` is the flag letters last seen in the file name, so a flag change made by another Maildir tool
 * is noticed (and given a new modseq) on the next scan.
 */
export interface IndexEntry {
  uid: number;
  base: string;
  info: string;
  modseq: number;
  /** Internal date, ms since the epoch. */
  date: number;
  size: number;
}

export interface IndexHeader {
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

export type IndexRecord =
  | { readonly op: 'add'; readonly entry: IndexEntry }
  | { readonly op: 'flags'; readonly uid: number; readonly modseq: number; readonly info: string }
  | { readonly op: 'expunge'; readonly uid: number; readonly modseq: number };

const SNAPSHOT_MAGIC = 'pochta-uidlist 1';
const JOURNAL_MAGIC = 'pochta-uidlog 1';

export class FolderIndex {
  readonly header: IndexHeader;
  readonly entries = new Map<number, IndexEntry>();
  readonly byBase = new Map<string, number>();
  private sortedUids: number[] | undefined = [];
  // Map order is insertion order, which is UID order while adds only ever ascend.
  private inOrder = true;
  private lastAdded = 0;

  constructor(header: IndexHeader) {
    this.header = { ...header };
  }

  apply(record: IndexRecord): void {
    const h = this.header;
    h.highestModseq = Math.max(h.highestModseq, record.op === 'add' ? record.entry.modseq : record.modseq);
    if (record.op === 'add') {
      const { entry } = record;
      const old = this.entries.get(entry.uid);
      if (old && old.base !== entry.base) this.byBase.delete(old.base);
      if (!old) {
        if (entry.uid < this.lastAdded) this.inOrder = false;
        this.lastAdded = Math.max(this.lastAdded, entry.uid);
      }
      this.entries.set(entry.uid, { ...entry });
      this.byBase.set(entry.base, entry.uid);
      h.uidNext = Math.max(h.uidNext, entry.uid + 1);
      if (!old) this.sortedUids?.push(entry.uid);
      if (!this.inOrder) this.sortedUids = undefined;
    } else if (record.op === 'flags') {
      const entry = this.entries.get(record.uid);
      if (entry) {
        entry.info = record.info;
        entry.modseq = record.modseq;
      }
    } else {
      const entry = this.entries.get(record.uid);
      if (entry) {
        this.entries.delete(record.uid);
        if (this.byBase.get(entry.base) === record.uid) this.byBase.delete(entry.base);
        this.sortedUids = undefined;
      }
    }
  }

  /** UIDs present, ascending (rebuilt lazily after expunges, so a batch costs one pass). */
  uids(): readonly number[] {
    if (this.sortedUids === undefined) {
      const uids = [...this.entries.keys()];
      if (!this.inOrder) {
        uids.sort((a, b) => a - b);
        this.inOrder = true; // re-inserting in order below keeps Map order = UID order from now on
        const entries = uids.map((uid) => this.entries.get(uid) as IndexEntry);
        this.entries.clear();
        for (const entry of entries) this.entries.set(entry.uid, entry);
      }
      this.sortedUids = uids;
    }
    return this.sortedUids;
  }

  toSnapshot(): string {
    const h = this.header;
    const lines = [`${SNAPSHOT_MAGIC} V${h.uidValidity} N${h.uidNext} M${h.highestModseq}`];
    for (const uid of this.uids()) lines.push(entryFields(this.entries.get(uid) as IndexEntry));
    return lines.join('\n') + '\n';
  }
}

export function journalHeader(uidValidity: number): string {
  return `${JOURNAL_MAGIC} V${uidValidity}\n`;
}

export function formatRecord(record: IndexRecord): string {
  switch (record.op) {
    case 'add':
      return `+ ${entryFields(record.entry)}\n`;
    case 'flags':
      return `f ${record.uid} ${record.modseq} ${record.info || '-'}\n`;
    case 'expunge':
      return `- ${record.uid} ${record.modseq}\n`;
  }
}

/** Parses a snapshot; undefined when it is not one (then the folder is re-indexed with a new UIDVALIDITY). */
export function parseSnapshot(text: string): FolderIndex | undefined {
  const lines = text.split('\n');
  const head = /^pochta-uidlist 1 V(\d+) N(\d+) M(\d+)$/.exec(lines[0] ?? '');
  if (!head || !text.endsWith('\n')) return undefined;
  const index = new FolderIndex({ uidValidity: Number(head[1]), uidNext: Number(head[2]), highestModseq: Number(head[3]) });
  for (let i = 1; i < lines.length - 1; i++) {
    const entry = parseEntry(lines[i]);
    if (!entry) return undefined;
    index.apply({ op: 'add', entry });
  }
  return index;
}

/**
 * Parses a journal written for `uidValidity`. A last line without its newline is a write torn by a crash
 * and is ignored; so is a journal of another UIDVALIDITY. Returns the records and the bytes consumed.
 */
export function parseJournal(text: string, uidValidity: number): { records: IndexRecord[]; consumed: number } {
  const header = journalHeader(uidValidity);
  if (!text.startsWith(header)) return { records: [], consumed: 0 };
  const tail = parseJournalTail(text.slice(header.length));
  return { records: tail.records, consumed: header.length + tail.consumed };
}

/** Journal lines after the header, from a tail read (`text` starts at a line boundary). */
export function parseJournalTail(text: string): { records: IndexRecord[]; consumed: number } {
  const records: IndexRecord[] = [];
  let pos = 0;
  for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', pos)) {
    const record = parseRecord(text.slice(pos, end));
    if (record) records.push(record);
    pos = end + 1;
  }
  return { records, consumed: Buffer.byteLength(text.slice(0, pos)) };
}

function entryFields(e: IndexEntry): string {
  return `${e.uid} ${e.modseq} ${e.date} ${e.size} ${e.info || '-'} ${e.base}`;
}

const ENTRY = /^(\d+) (\d+) (-?\d+) (\d+) ([A-Za-z]+|-) (.+)$/;

function parseEntry(line: string): IndexEntry | undefined {
  const m = ENTRY.exec(line);
  if (!m) return undefined;
  return {
    uid: Number(m[1]),
    modseq: Number(m[2]),
    date: Number(m[3]),
    size: Number(m[4]),
    info: m[5] === '-' ? '' : (m[5]),
    base: m[6],
  };
}

function parseRecord(line: string): IndexRecord | undefined {
  if (line.startsWith('+ ')) {
    const entry = parseEntry(line.slice(2));
    return entry && { op: 'add', entry };
  }
  const flags = /^f (\d+) (\d+) ([A-Za-z]+|-)$/.exec(line);
  if (flags) return { op: 'flags', uid: Number(flags[1]), modseq: Number(flags[2]), info: flags[3] === '-' ? '' : (flags[3]) };
  const expunge = /^- (\d+) (\d+)$/.exec(line);
  if (expunge) return { op: 'expunge', uid: Number(expunge[1]), modseq: Number(expunge[2]) };
  return undefined; // unknown record kinds from a newer version are skipped, not fatal
}
