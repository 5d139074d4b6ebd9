/**
 * Optional on-disk summary of parsed structures, one append-only JSON-lines file per folder and
 * UIDVALIDITY, so a restarted server (or another worker) does not parse a folder's files again:
 * measured on 10,000 messages, the first FETCH ENVELOPE of a folder costs about 5× the next one,
 * almost all of it opening and parsing every file (bench/RESULTS.md, IMAP). Two kinds of line:
 * `{u, s, r}` a full structure, `{u, s, h, f}` a header-only summary (end of header, ENVELOPE
 * fields: what a cold FETCH ENVELOPE builds, head.ts).
 *
 * Entries never go stale (a UID names the same bytes while UIDVALIDITY holds, RFC 3501 §2.3.1.1);
 * expunged UIDs are skipped when loading and dropped when the file is rewritten. Every write is
 * whole lines in one append, so processes sharing the file interleave cleanly. The file is only a
 * cache: unreadable or corrupt lines are ignored, write errors lose nothing but speed.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import readline from 'node:readline';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { FolderView } from '../../store/mail-store.ts';
import { Lru, type ParsedMessage } from './cache.ts';
import type { MessageHead } from './head.ts';
import type { MimePart } from './structure.ts';

const VERSION = 1;
/**
 * Queued lines are written when the folder has been quiet for QUIET_MS (a whole-folder FETCH queues a
 * batch every few ms, so its lines go out in one append after its last response, not in its critical
 * path), at the latest MAX_DELAY_MS after the first one, or at once past FLUSH_CHARS. MAX_PENDING_CHARS
 * bounds what one folder holds while a write runs; beyond it lines are dropped (only a cache miss later).
 */
const QUIET_MS = 300;
const MAX_DELAY_MS = 5000;
const FLUSH_CHARS = 8 * 1024 * 1024;
const MAX_PENDING_CHARS = 32 * 1024 * 1024;
/** Heads turned into lines between two turns of the event loop when writing. */
const LINES_PER_SLICE = 1000;
/** Folders whose file state (known UIDs, queued lines) is kept; an evicted one is flushed and reloads on use. */
const MAX_FOLDERS = 256;

interface FolderFile {
  readonly file: string;
  loaded?: Promise<void>;
  done: boolean;
  /** Dropped from the LRU: a view holding it must look the folder up again (it reloads on use). */
  evicted?: boolean;
  /** UIDs whose full structure is in the file (not appended again). */
  readonly known: Set<number>;
  /** UIDs whose head (header-only summary, or a full structure, which holds it) is in the file. */
  readonly knownHead: Set<number>;
  /** Lines to append: text, or a head (uid, summary) turned into its line only when written (off the FETCH path). */
  pending: (string | readonly [number, MessageHead])[];
  /** Characters in `pending`, heads estimated from their fields (a bound on its memory). */
  pendingChars: number;
  /** When the oldest queued line was queued (ms since the epoch), 0 when none is. */
  firstPendingAt: number;
  /** The file starts with the version line (found when loading, or queued). */
  headed: boolean;
  writing?: Promise<void>;
  timer?: NodeJS.Timeout;
  /** A flush started by a full batch (one at a time: lines queued meanwhile go with it or the next). */
  flushing?: Promise<void>;
}

function isFields(v: unknown): v is [string, string][] {
  return Array.isArray(v) && v.every((f) => Array.isArray(f) && f.length === 2 && typeof f[0] === 'string' && typeof f[1] === 'string');
}

function isPart(v: unknown, depth = 0): v is MimePart {
  if (typeof v !== 'object' || v === null || depth > 80) return false;
  const p = v as Record<string, unknown>;
  return (
    typeof p.headerStart === 'number' && typeof p.bodyStart === 'number' && typeof p.end === 'number' && typeof p.lines === 'number' &&
    Array.isArray(p.fields) && typeof p.ct === 'object' && p.ct !== null &&
    (p.children === undefined || (Array.isArray(p.children) && p.children.every((c) => isPart(c, depth + 1)))) &&
    (p.message === undefined || isPart(p.message, depth + 1))
  );
}

/** A header-only line: { u, s, h: end of header, f: ENVELOPE fields }. */
function headLine(uid: number, head: MessageHead): string {
  // The same line either way: JSON.stringify writes these keys in this order.
  if (head.fieldsJson !== undefined) return `{"u":${uid},"s":${head.size},"h":${head.bodyStart},"f":${head.fieldsJson}}\n`;
  return `${JSON.stringify({ u: uid, s: head.size, h: head.bodyStart, f: head.fields })}\n`;
}

export class SummaryFiles {
  private readonly folders: Lru<FolderFile>;
  /** Each view's folder, so the per-message isLoaded check skips the key and the LRU. */
  private readonly byView = new WeakMap<FolderView, FolderFile>();

  constructor(private readonly dir: string) {
    this.folders = new Lru<FolderFile>(MAX_FOLDERS, (_key, f) => {
      f.evicted = true;
      void this.flushFolder(f);
    });
  }

  private folder(view: FolderView): FolderFile {
    const id = `${view.user}\u0000${view.folder}\u0000${view.uidValidity}`;
    let f = this.folders.get(id);
    if (!f) {
      const name = createHash('sha256').update(`${view.user}\u0000${view.folder}`).digest('hex').slice(0, 40);
      f = { file: path.join(this.dir, `${name}-${view.uidValidity}.jsonl`), known: new Set(), knownHead: new Set(), pending: [], pendingChars: 0, firstPendingAt: 0, headed: false, done: false };
      this.folders.set(id, f);
    }
    return f;
  }

  /** True once the folder's file has been read (or found missing). */
  isLoaded(view: FolderView): boolean {
    let f = this.byView.get(view);
    if (!f || f.evicted) {
      f = this.folder(view);
      this.byView.set(view, f);
    }
    return f.done;
  }

  /**
   * Loads the folder's file once; `put` receives each full structure and `putHead` each header-only
   * summary for a message the view still has.
   */
  load(view: FolderView, put: (uid: number, parsed: ParsedMessage) => void, putHead: (uid: number, head: MessageHead) => void): Promise<void> {
    const f = this.folder(view);
    f.loaded ??= this.read(view, f, put, putHead)
      .catch(() => undefined)
      .finally(() => {
        f.done = true;
      });
    return f.loaded;
  }

  private async read(view: FolderView, f: FolderFile, put: (uid: number, parsed: ParsedMessage) => void, putHead: (uid: number, head: MessageHead) => void): Promise<void> {
    let stream: fs.ReadStream;
    try {
      await fsp.access(f.file);
      stream = fs.createReadStream(f.file, { encoding: 'utf8' });
    } catch {
      return; // no summary yet
    }
    let total = 0;
    let live = 0;
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    try {
      for await (const line of lines) {
        total++;
        let e: unknown;
        try {
          e = JSON.parse(line);
        } catch {
          continue; // torn or foreign line
        }
        const entry = e as { v?: number; u?: unknown; s?: unknown; r?: unknown; h?: unknown; f?: unknown };
        if (entry.v !== undefined) {
          if (entry.v !== VERSION) return; // another format: ignore the whole file
          f.headed = true;
          continue;
        }
        if (typeof entry.u !== 'number' || typeof entry.s !== 'number') continue;
        const info = view.get(entry.u);
        if (!info || info.size !== entry.s) continue;
        if (typeof entry.h === 'number' && isFields(entry.f)) {
          // A header-only line: { u, s, h: end of header, f: ENVELOPE fields }.
          if (f.knownHead.has(entry.u) || entry.h < 0 || entry.h > entry.s) continue;
          f.knownHead.add(entry.u);
          live++;
          putHead(entry.u, { size: entry.s, bodyStart: entry.h, fields: entry.f, memo: {} });
          continue;
        }
        if (!isPart(entry.r) || f.known.has(entry.u)) continue;
        f.known.add(entry.u);
        f.knownHead.add(entry.u);
        live++;
        put(entry.u, { size: entry.s, root: entry.r, memo: {} });
      }
    } finally {
      lines.close();
      stream.destroy();
    }
    // Mostly expunged or duplicate lines: start the file again; entries come back as they are parsed.
    if (total > 1000 && live * 2 < total) {
      await fsp.rm(f.file, { force: true });
      f.known.clear();
      f.knownHead.clear();
      f.headed = false;
    }
  }

  /** Queues a freshly parsed message for the folder's file. */
  record(view: FolderView, uid: number, parsed: ParsedMessage): void {
    const f = this.folder(view);
    if (f.known.has(uid) || f.pendingChars >= MAX_PENDING_CHARS) return;
    f.known.add(uid);
    f.knownHead.add(uid);
    this.queue(f, `${JSON.stringify({ u: uid, s: parsed.size, r: parsed.root })}\n`);
    this.scheduleFlush(f);
  }

  /** Queues freshly read header-only summaries (FETCH ENVELOPE of a cold folder) for the folder's file. */
  recordHeads(view: FolderView, heads: ReadonlyMap<number, MessageHead>): void {
    if (heads.size === 0) return;
    const f = this.folder(view);
    for (const [uid, head] of heads) {
      if (f.knownHead.has(uid) || f.pendingChars >= MAX_PENDING_CHARS) continue;
      f.knownHead.add(uid);
      let chars = 48;
      if (head.fieldsJson !== undefined) chars += head.fieldsJson.length;
      else for (const [n, v] of head.fields) chars += n.length + v.length + 8;
      this.queue(f, [uid, head], chars);
    }
    this.scheduleFlush(f);
  }

  private queue(f: FolderFile, line: string | readonly [number, MessageHead], chars = (line as string).length): void {
    if (!f.headed) {
      f.pending.push(`${JSON.stringify({ v: VERSION })}\n`);
      f.headed = true;
    }
    f.pending.push(line);
    f.pendingChars += chars;
    if (f.firstPendingAt === 0) f.firstPendingAt = Date.now();
  }

  /** After lines were queued: write now (too many held), or once the folder is quiet (QUIET_MS, at most MAX_DELAY_MS late). */
  private scheduleFlush(f: FolderFile): void {
    if (f.pending.length === 0) return;
    if (f.pendingChars >= FLUSH_CHARS) {
      this.requestFlush(f);
      return;
    }
    if (f.flushing) return; // it reschedules when done
    const wait = Math.max(0, Math.min(QUIET_MS, f.firstPendingAt + MAX_DELAY_MS - Date.now()));
    if (f.timer) clearTimeout(f.timer);
    f.timer = setTimeout(() => this.requestFlush(f), wait);
    f.timer.unref();
  }

  /** One flush at a time (not one per batch queued while a write runs); lines queued meanwhile are scheduled after it. */
  private requestFlush(f: FolderFile): void {
    if (f.flushing) return;
    f.flushing = this.flushFolder(f).finally(() => {
      f.flushing = undefined;
      this.scheduleFlush(f);
    });
  }

  private async flushFolder(f: FolderFile): Promise<void> {
    if (f.timer) clearTimeout(f.timer);
    f.timer = undefined;
    while (f.writing) await f.writing;
    if (f.pending.length === 0) return;
    const items = f.pending;
    f.pending = [];
    f.pendingChars = 0;
    f.firstPendingAt = 0;
    f.writing = (async () => {
      try {
        // Heads become lines here, a slice at a time: the event loop is never held long.
        let data = '';
        for (let i = 0; i < items.length; i++) {
          const p = items[i] ?? '';
          data += typeof p === 'string' ? p : headLine(p[0], p[1]);
          if (i % LINES_PER_SLICE === LINES_PER_SLICE - 1) await yieldLoop();
        }
        await fsp.mkdir(this.dir, { recursive: true });
        await fsp.appendFile(f.file, data, { mode: 0o600 });
      } catch {
        // only a cache
      }
    })();
    await f.writing;
    f.writing = undefined;
  }

  /** Writes every queued entry (tests, shutdown). */
  async flush(): Promise<void> {
    for (const f of [...this.folders.values()]) await this.flushFolder(f);
  }
}
