/**
 * The IMAP message layer: pure logic the session calls for FETCH (ENVELOPE, BODYSTRUCTURE,
 * BODY[section]) and SEARCH. Nothing here knows about sockets or session state; the session owns
 * the sequence map and passes it in.
 */
import type { Readable } from 'node:stream';
import type { FolderView } from '../../store/mail-store.ts';
import type { ImapValue, SectionSpec, Partial, SearchKey } from '../types.ts';
import { bodyStructureOf } from './body-structure.ts';
import { cacheKey, Lru, parseFromView } from './cache.ts';
import { envelopeOf } from './envelope.ts';
import { runSearch } from './search.ts';
import { SummaryFiles } from './summary-file.ts';
import { readSectionBytes } from './section.ts';
import type { MimePart } from './structure.ts';

export type { MimePart } from './structure.ts';
export type { SectionStream } from './section.ts';
export { BadCharsetError, SEARCH_CHARSETS } from './search.ts';

/** Parsed, cached structure of one stored message (memory bounded: headers and part offsets only). */
export interface MessageStructure {
  /** Bytes as stored (RFC822.SIZE). */
  readonly size: number;
  /** The message entity: kept header fields, content type, part tree with offsets and line counts. */
  readonly root: MimePart;
  /** Values derived from the structure, computed once per cached entry. */
  readonly memo: { envelope?: ImapValue; envelopeWire?: Buffer };
}

/** Parses ahead of a sequential reader at most this many messages (overlaps file I/O). */
const READAHEAD = 16;
/** A request within this many UIDs above the previous one of the same view counts as sequential. */
const SEQUENTIAL_GAP = 64;

/**
 * Cache of structures, owned by whoever creates it (the server instance; no module state).
 * A reader going up through a folder (FETCH 1:*, SEARCH) gets the next messages parsed in parallel
 * ahead of it, so a cold folder costs file-system latency once per READAHEAD messages, not per message.
 */
export class StructureCache {
  private readonly lru: Lru<MessageStructure>;
  private readonly inflight = new Map<string, Promise<MessageStructure>>();
  /** Last UID asked for per view id (bounded like the entries), to spot sequential readers. */
  private readonly lastUid: Lru<number>;
  private ahead = 0;
  private readonly summary: SummaryFiles | undefined;

  /**
   * `maxEntries` bounds memory (a structure is a few hundred bytes to a few KB). `dir` turns on the
   * on-disk folder summaries (summary-file.ts), e.g. `<dataDir>/imap-cache`: without it a restarted
   * server parses each folder's messages again on first use.
   */
  constructor(opts?: { maxEntries?: number; dir?: string }) {
    this.lru = new Lru(Math.max(1, opts?.maxEntries ?? 20_000));
    this.lastUid = new Lru(1024);
    this.summary = opts?.dir === undefined ? undefined : new SummaryFiles(opts.dir);
  }

  get(view: FolderView, uid: number): Promise<MessageStructure> {
    const summary = this.summary;
    if (summary && !summary.isLoaded(view)) {
      return summary.load(view, (u, parsed) => this.lru.set(cacheKey(view, u), parsed)).then(() => this.get(view, uid));
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

  /** Entries held now (for tests and metrics). */
  get size(): number {
    return this.lru.size;
  }
}

/** RFC 3501 §7.4.2 ENVELOPE. */
export function envelope(s: MessageStructure): ImapValue {
  // Memoised on the cached structure: FETCH ENVELOPE of a whole folder is asked again and again.
  return (s.memo.envelope ??= envelopeOf(s.root.fields));
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
