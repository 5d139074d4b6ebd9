/**
 * The IMAP message layer: pure logic the session calls for FETCH (ENVELOPE, BODYSTRUCTURE,
 * BODY[section]) and SEARCH. Nothing here knows about sockets or session state; the session owns
 * the sequence map and passes it in.
 */
import type { Readable } from 'node:stream';
import type { FolderView } from '../../store/mail-store.ts';
import type { ImapValue, SectionSpec, Partial, SearchKey } from '../types.ts';
import { bodyStructureOf } from './body-structure.ts';
import { cacheKey, FolderLru, Lru, parseFromView } from './cache.ts';
import { envelopeOf, envelopeTextOf } from './envelope.ts';
import { headFromPrefix, headOfStructure, JsonHead, type MessageHead } from './head.ts';
import { HeadReader } from './head-reader.ts';
import { GONE, MISSING } from './head-worker.ts';
import { runSearch } from './search.ts';
import { SummaryFiles } from './summary-file.ts';
import { readSectionBytes } from './section.ts';
import { DEFAULT_CT, MAX_HEADER_BYTES, type MimePart } from './structure.ts';

export type { MimePart } from './structure.ts';
export type { MessageHead } from './head.ts';
export type { SectionStream } from './section.ts';
export { BadCharsetError, SEARCH_CHARSETS } from './search.ts';

/** Parsed, cached structure of one stored message (memory bounded: headers and part offsets only). */
export interface MessageStructure {
  /** Bytes as stored (RFC822.SIZE). */
  readonly size: number;
  /** The message entity: kept header fields, content type, part tree with offsets and line counts. */
  readonly root: MimePart;
  /** Values derived from the structure, computed once per cached entry. */
  readonly memo: { envelope?: ImapValue; envelopeBytes?: Buffer };
}

/** One message of a head batch: its UID and stored size (RFC822.SIZE). */
interface BatchEntry {
  readonly uid: number;
  readonly size: number;
}

/** Parses ahead of a sequential reader at most this many messages (overlaps file I/O). */
const READAHEAD = 16;
/** A request within this many UIDs above the previous one of the same view counts as sequential. */
const SEQUENTIAL_GAP = 64;
/** Heads read in one go for a sequential reader (the store reads them in bounded slices). */
const HEAD_BATCH = 128;
/**
 * First read of a message for its head: most headers end well inside it. A header that does not is
 * read again up to the bytes the full parser keeps, then (larger still) the message is parsed whole.
 */
const HEAD_READ = 16 * 1024;
/**
 * Cache of structures, owned by whoever creates it (the server instance; no module state).
 * A reader going up through a folder (FETCH 1:*, SEARCH) gets the next messages parsed in parallel
 * ahead of it, so a cold folder costs file-system latency once per READAHEAD messages, not per message.
 */
export class StructureCache {
  private readonly lru: Lru<MessageStructure>;
  private readonly inflight = new Map<string, Promise<MessageStructure>>();
  /** Header-only summaries (FETCH FLAGS ENVELOPE, BODY[HEADER]): no body parse behind them. */
  private readonly heads: FolderLru<MessageHead>;
  /** Per view: its folder key in `heads` (user, folder, UIDVALIDITY). */
  private readonly viewKeys = new WeakMap<FolderView, string>();
  /** Running head reads: folder key → each message's UID → the batch that reads it (no string key per message). */
  private readonly headsInflight = new Map<string, Map<number, Promise<Map<number, MessageHead>>>>();
  /** Last UID asked for per view id (bounded like the entries), to spot sequential readers. */
  private readonly lastUid: Lru<number>;
  private readonly lastHead: Lru<number>;
  private ahead = 0;
  private readonly summary: SummaryFiles | undefined;
  /**
   * The head-reading worker thread (startHeadWorker); none: heads are read on this thread. One: on a
   * 2-core machine a second one cost more CPU (its own start and compilation) and was slower, not
   * faster (bench/imap/fetch-cpu.ts, 10,000 messages: 380–510 ms vs 230–350).
   */
  private headReader: HeadReader | undefined;

  /**
   * `maxEntries` bounds memory (a structure is a few hundred bytes to a few KB). `dir` turns on the
   * on-disk folder summaries (summary-file.ts), e.g. `<dataDir>/imap-cache`: without it a restarted
   * server parses each folder's messages again on first use.
   */
  constructor(opts?: { maxEntries?: number; dir?: string }) {
    this.lru = new Lru(Math.max(1, opts?.maxEntries ?? 20_000));
    this.heads = new FolderLru(Math.max(1, opts?.maxEntries ?? 20_000));
    this.lastUid = new Lru(1024);
    this.lastHead = new Lru(1024);
    this.summary = opts?.dir === undefined ? undefined : new SummaryFiles(opts.dir);
  }

  /**
   * Starts the head-reading worker thread (head-reader.ts) and waits, at most `timeoutMs`, until it
   * has loaded; false when it did not (heads are then read on this thread until it has).
   */
  async startHeadWorker(timeoutMs = 10_000): Promise<boolean> {
    this.headReader ??= new HeadReader();
    return this.headReader.whenReady(timeoutMs);
  }

  /** True when the head-reading worker thread is loaded and working (tests). */
  get headWorkerReady(): boolean {
    return this.headReader?.ready ?? false;
  }

  /** The worker thread, when it is loaded. */
  private reader(): HeadReader | undefined {
    return this.headReader?.ready ? this.headReader : undefined;
  }

  get(view: FolderView, uid: number): Promise<MessageStructure> {
    const summary = this.summary;
    if (summary && !this.summaryLoaded(summary, view)) {
      return this.loadSummary(summary, view).then(() => this.get(view, uid));
    }
    const last = this.lastUid.get(view.id);
    this.lastUid.set(view.id, uid);
    const key = cacheKey(view, uid);
    const hit = this.lru.get(key);
    if (hit) return Promise.resolve(hit); // warm: no read-ahead bookkeeping at all
    const p = this.load(view, uid, key);
    if (last !== undefined && uid > last && uid - last <= SEQUENTIAL_GAP) this.readAhead(view, uid);
    return p;
  }

  /**
   * The header-only summary of a message (size, end of header, ENVELOPE fields): from the full
   * structure when that is cached, else from the first bytes of the file. A sequential reader gets
   * the next HEAD_BATCH heads read in the same pass.
   */
  head(view: FolderView, uid: number): Promise<MessageHead> {
    const summary = this.summary;
    if (summary && !this.summaryLoaded(summary, view)) return this.loadSummary(summary, view).then(() => this.head(view, uid));
    const fk = this.folderKey(view);
    const hit = this.heads.get(fk, uid);
    if (hit) return Promise.resolve(hit); // warm, or read by the batch of an earlier request
    const key = cacheKey(view, uid);
    const full = this.lru.get(key);
    if (full) {
      const h = headOfStructure(full);
      this.heads.set(fk, uid, h);
      return Promise.resolve(h);
    }
    const fromBatch = (m: Map<number, MessageHead>): MessageHead | Promise<MessageHead> => m.get(uid) ?? this.headFromFull(view, uid, key);
    const running = this.headsInflight.get(fk);
    const mine = running?.get(uid);
    if (mine) {
      this.readAheadHeads(view, fk, uid);
      return mine.then(fromBatch);
    }
    const parsing = this.inflight.get(key);
    if (parsing) return parsing.then(headOfStructure);
    // Misses only: a batch records its last UID, so the reader's next miss (just past it) is sequential.
    const last = this.lastHead.get(view.id);
    const info = view.get(uid);
    const batch: BatchEntry[] = [{ uid, size: info?.size ?? -1 }];
    const sequential = view.readPrefixes !== undefined && last !== undefined && uid > last && uid - last <= SEQUENTIAL_GAP;
    if (sequential) batch.push(...this.batchFrom(view, fk, uid + 1, HEAD_BATCH - 1));
    const done = this.startHeads(view, fk, batch);
    if (sequential) this.readAheadHeads(view, fk, uid);
    // A message the batch could not read (header too large, expunged) is parsed whole: that read reports why.
    return done.then(fromBatch);
  }

  /** Up to `limit` messages from UID `from` on whose heads are neither cached nor being read. */
  private batchFrom(view: FolderView, fk: string, from: number, limit: number): BatchEntry[] {
    const out: BatchEntry[] = [];
    const running = this.headsInflight.get(fk);
    // A full structure cached or being parsed holds the head too; none usually is in a folder being listed.
    const checkFull = this.lru.size > 0 || this.inflight.size > 0;
    for (const m of view.messages({ from, limit })) {
      if (this.heads.has(fk, m.uid) || running?.has(m.uid)) continue;
      if (checkFull) {
        const k = cacheKey(view, m.uid);
        if (this.lru.has(k) || this.inflight.has(k)) continue;
      }
      out.push({ uid: m.uid, size: m.size });
    }
    return out;
  }

  /** Starts reading a batch of heads; each message is marked in flight until it is done. */
  private startHeads(view: FolderView, fk: string, batch: readonly BatchEntry[]): Promise<Map<number, MessageHead>> {
    this.lastHead.set(view.id, batch[batch.length - 1]?.uid ?? 0);
    const done = this.loadHeads(view, batch);
    let reading = this.headsInflight.get(fk);
    if (!reading) this.headsInflight.set(fk, (reading = new Map()));
    const marks = reading;
    for (const e of batch) marks.set(e.uid, done);
    const clear = (): void => {
      for (const e of batch) if (marks.get(e.uid) === done) marks.delete(e.uid);
      if (marks.size === 0 && this.headsInflight.get(fk) === marks) this.headsInflight.delete(fk);
    };
    done.then(clear, clear);
    return done;
  }

  /**
   * With the worker thread reading, keeps the next batch in flight while the reader copies out the
   * current one (one batch ahead at most): its reads and parsing overlap the FETCH responses.
   */
  private readAheadHeads(view: FolderView, fk: string, uid: number): void {
    if (!view.filePaths) return;
    if (!this.reader()) return;
    const last = this.lastHead.get(view.id);
    if (last === undefined || last < uid || last - uid >= HEAD_BATCH) return;
    const next = this.batchFrom(view, fk, last + 1, HEAD_BATCH);
    if (next.length === 0) return;
    void this.startHeads(view, fk, next).catch(() => undefined); // a reader that gets there asks again
  }

  /**
   * Reads the heads of a batch: on the worker thread when it is there (its ENVELOPE bytes come
   * along), else, and for files renamed meanwhile, here (two passes: HEAD_READ, then what the full
   * parser keeps). Misses are left out (the caller parses them whole, which reports why).
   */
  private async loadHeads(view: FolderView, batch: readonly BatchEntry[]): Promise<Map<number, MessageHead>> {
    const out = new Map<number, MessageHead>();
    const fk = this.folderKey(view);
    let rest = batch.filter((e) => e.size >= 0);
    const reader = this.reader();
    if (reader && view.filePaths && rest.length > 0) rest = await this.loadHeadsOnWorker(reader, view, fk, rest, out);
    if (rest.length > 0) await this.loadHeadsHere(view, fk, rest, out);
    this.summary?.recordHeads(view, out);
    return out;
  }

  /** The worker's part of loadHeads; returns what it left to read here (files gone from their path, or all when the worker failed). */
  private async loadHeadsOnWorker(reader: HeadReader, view: FolderView, fk: string, batch: readonly BatchEntry[], out: Map<number, MessageHead>): Promise<BatchEntry[]> {
    const paths = view.filePaths?.(batch.map((e) => e.uid)) ?? [];
    const reply = await reader.read(paths.map((p) => p ?? null), batch.map((e) => e.size), HEAD_READ);
    if (!reply || reply.bodyStart.length !== batch.length) return [...batch];
    const env = Buffer.from(reply.env.buffer, reply.env.byteOffset, reply.env.byteLength);
    const again: BatchEntry[] = [];
    let from = 0;
    let fieldsFrom = 0;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i];
      const start = reply.bodyStart[i] ?? MISSING;
      const end = reply.envEnd[i] ?? from;
      const fieldsEnd = reply.fieldsEnd[i] ?? fieldsFrom;
      if (e && start >= 0) {
        const h = new JsonHead(e.size, start, reply.fieldsJson.slice(fieldsFrom, fieldsEnd), { envelopeBytes: env.subarray(from, end) });
        out.set(e.uid, h);
        this.heads.set(fk, e.uid, h);
      } else if (e && start === GONE) again.push(e);
      from = end;
      fieldsFrom = fieldsEnd;
    }
    return again;
  }

  /** loadHeads on this thread, through the store's readPrefixes (bounded synchronous slices). */
  private async loadHeadsHere(view: FolderView, fk: string, batch: readonly BatchEntry[], out: Map<number, MessageHead>): Promise<void> {
    const read = view.readPrefixes?.bind(view);
    if (!read) return;
    const byUid = new Map(batch.map((e) => [e.uid, e]));
    let want = batch.map((e) => e.uid);
    for (const length of [HEAD_READ, MAX_HEADER_BYTES]) {
      const again: number[] = [];
      await read(want, length, (u, bytes) => {
        const e = byUid.get(u);
        if (!bytes || !e) return;
        const h = headFromPrefix(bytes, bytes.length, e.size);
        if (h) {
          out.set(u, h);
          this.heads.set(fk, u, h);
        } else if (bytes.length === length) again.push(u);
      });
      if (again.length === 0) break;
      want = again;
    }
  }

  /** A head the prefix could not give (header beyond MAX_HEADER_BYTES, store without readPrefixes, or a read error the full read reports). */
  private async headFromFull(view: FolderView, uid: number, key: string): Promise<MessageHead> {
    const h = headOfStructure(await this.load(view, uid, key));
    this.heads.set(this.folderKey(view), uid, h);
    return h;
  }

  /**
   * A cached head without a promise, or undefined (not cached, or the folder's summary file not
   * loaded yet: then `head()`): a warm whole-folder FETCH asks for thousands in a row.
   */
  peekHead(view: FolderView, uid: number): MessageHead | undefined {
    const summary = this.summary;
    if (summary && !this.summaryLoaded(summary, view)) return undefined;
    return this.heads.get(this.folderKey(view), uid);
  }

  private folderKey(view: FolderView): string {
    let k = this.viewKeys.get(view);
    if (k === undefined) {
      k = `${view.user}\u0000${view.folder}\u0000${view.uidValidity}`;
      this.viewKeys.set(view, k);
    }
    return k;
  }

  private summaryLoaded(summary: SummaryFiles, view: FolderView): boolean {
    return summary.isLoaded(view);
  }

  private loadSummary(summary: SummaryFiles, view: FolderView): Promise<void> {
    return summary.load(
      view,
      (u, parsed) => this.lru.set(cacheKey(view, u), parsed),
      (u, head) => this.heads.set(this.folderKey(view), u, head),
    );
  }

  private load(view: FolderView, uid: number, key: string): Promise<MessageStructure> {
    const hit = this.lru.get(key);
    if (hit) return Promise.resolve(hit);
    const running = this.inflight.get(key);
    if (running) return running;
    const p = parseFromView(view, uid).then(
      (s) => {
        this.inflight.delete(key);
        this.lru.set(key, s);
        this.summary?.record(view, uid, s);
        return s;
      },
      (err: unknown) => {
        this.inflight.delete(key);
        throw err;
      },
    );
    this.inflight.set(key, p);
    return p;
  }

  private readAhead(view: FolderView, uid: number): void {
    if (this.ahead >= READAHEAD) return;
    for (const m of view.messages({ from: uid + 1, limit: READAHEAD })) {
      if (this.ahead >= READAHEAD) return;
      const key = cacheKey(view, m.uid);
      if (this.inflight.has(key) || this.lru.has(key)) continue;
      this.ahead++;
      this.load(view, m.uid, key)
        .catch(() => undefined) // expunged meanwhile: the reader will see it when it gets there
        .finally(() => this.ahead--);
    }
  }

  /** Writes queued summary entries (shutdown, tests). */
  flush(): Promise<void> {
    return this.summary?.flush() ?? Promise.resolve();
  }

  /** Shutdown: writes queued summary entries and stops the worker thread. */
  async close(): Promise<void> {
    await this.flush();
    await this.headReader?.close();
  }

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.lru.size;
  }
}

/** RFC 3501 §7.4.2 ENVELOPE, from the full structure or the header-only summary (the same fields). */
export function envelope(s: MessageStructure | MessageHead): ImapValue {
  // Memoised on the cached entry: FETCH ENVELOPE of a whole folder is asked again and again.
  return (s.memo.envelope ??= envelopeOf('root' in s ? s.root.fields : s.fields));
}

/**
 * `ENVELOPE (…)` as sent, encoded once per cached entry: a folder's ENVELOPEs are fetched again and
 * again by every client, and bytes go into the response batch with a copy (no string to encode per
 * FETCH). The value itself is not kept (less to hold and to collect).
 */
export function envelopeBytes(s: MessageStructure | MessageHead): Buffer {
  return (s.memo.envelopeBytes ??= Buffer.from(envelopeTextOf('root' in s ? s.root.fields : s.fields), 'utf8'));
}

/** BODY (extensible false) / BODYSTRUCTURE (true), RFC 3501 §7.4.2. */
export function bodyStructure(s: MessageStructure, extensible: boolean): ImapValue {
  return bodyStructureOf(s.root, extensible);
}

/**
 * The bytes of BODY[section]<partial> (RFC822.HEADER = {part:[], text:'HEADER'}, RFC822.TEXT = {part:[], text:'TEXT'}).
 * A Readable result is a SectionStream: its `byteLength` is the literal's length, known before reading.
 * A section that names no part is empty (Dovecot answers the same way).
 */
export function readSection(view: FolderView, uid: number, s: MessageStructure, section: SectionSpec, partial?: Partial): Promise<Buffer | Readable> {
  return readSectionBytes(view, uid, s.root, s.size, section, partial);
}

/**
 * BODY[HEADER], BODY[HEADER.FIELDS (…)], BODY[HEADER.FIELDS.NOT (…)] of the whole message from its
 * head: these need only the end of the header block (section.ts reads the bytes before it).
 */
export function readHeadSection(view: FolderView, uid: number, h: MessageHead, section: SectionSpec, partial?: Partial): Promise<Buffer | Readable> {
  const root: MimePart = { headerStart: 0, bodyStart: h.bodyStart, end: h.size, lines: 0, fields: h.fields, ct: DEFAULT_CT };
  return readSectionBytes(view, uid, root, h.size, section, partial);
}

/**
 * UIDs (ascending) matching the program. `seqOf` maps a uid to its sequence number in this session.
 * Throws BadCharsetError (code 'BADCHARSET') for a charset other than US-ASCII / UTF-8.
 */
export function search(
  view: FolderView,
  key: SearchKey,
  ctx: { uids: readonly number[]; seqOf(uid: number): number; isRecent(uid: number): boolean; cache: StructureCache; charset?: string },
): Promise<number[]> {
  return runSearch(view, key, {
    uids: ctx.uids,
    seqOf: (uid) => ctx.seqOf(uid),
    isRecent: (uid) => ctx.isRecent(uid),
    structure: (uid) => ctx.cache.get(view, uid),
    ...(ctx.charset !== undefined && { charset: ctx.charset }),
  });
}
