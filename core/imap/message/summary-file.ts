/**
 * Optional on-disk summary of parsed structures, one append-only JSON-lines file per folder and
 * UIDVALIDITY, so a restarted server (or another worker) does not parse a folder's files again:
 * measured on 10,000 messages, the first FETCH ENVELOPE of a folder costs about 5× the next one,
 * almost all of it opening and parsing every file (bench/RESULTS.md, IMAP).
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
import type { FolderView } from '../../store/mail-store.ts';
import { Lru, type ParsedMessage } from './cache.ts';
import type { MimePart } from './structure.ts';

const VERSION = 1;
/** Lines kept in memory before an append (and the most kept while a write is running). */
const BATCH = 256;
const MAX_PENDING = 8192;
const FLUSH_DELAY_MS = 500;
/** Folders whose file state (known UIDs, queued lines) is kept; an evicted one is flushed and reloads on use. */
const MAX_FOLDERS = 256;

interface FolderFile {
  readonly file: string;
  loaded?: Promise<void>;
  done: boolean;
  /** UIDs already in the file (not appended again). */
  readonly known: Set<number>;
  pending: string[];
  /** The file starts with the version line (found when loading, or queued). */
  headed: boolean;
  writing?: Promise<void>;
  timer?: NodeJS.Timeout;
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

export class SummaryFiles {
  private readonly folders: Lru<FolderFile>;

  constructor(private readonly dir: string) {
    this.folders = new Lru<FolderFile>(MAX_FOLDERS, (_key, f) => void this.flushFolder(f));
  }

  private folder(view: FolderView): FolderFile {
    const id = `${view.user}\u0000${view.folder}\u0000${view.uidValidity}`;
    let f = this.folders.get(id);
    if (!f) {
      const name = createHash('sha256').update(`${view.user}\u0000${view.folder}`).digest('hex').slice(0, 40);
      f = { file: path.join(this.dir, `${name}-${view.uidValidity}.jsonl`), known: new Set(), pending: [], headed: false, done: false };
      this.folders.set(id, f);
    }
    return f;
  }

  /** True once the folder's file has been read (or found missing). */
  isLoaded(view: FolderView): boolean {
    return this.folder(view).done;
  }

  /** Loads the folder's file once; `put` receives each entry for a message the view still has. */
  load(view: FolderView, put: (uid: number, parsed: ParsedMessage) => void): Promise<void> {
    const f = this.folder(view);
    f.loaded ??= this.read(view, f, put)
      .catch(() => undefined)
      .finally(() => {
        f.done = true;
      });
    return f.loaded;
  }

  private async read(view: FolderView, f: FolderFile, put: (uid: number, parsed: ParsedMessage) => void): Promise<void> {
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
        const entry = e as { v?: number; u?: unknown; s?: unknown; r?: unknown };
        if (entry.v !== undefined) {
          if (entry.v !== VERSION) return; // another format: ignore the whole file
          f.headed = true;
          continue;
        }
        if (typeof entry.u !== 'number' || typeof entry.s !== 'number' || !isPart(entry.r)) continue;
        const info = view.get(entry.u);
        if (!info || info.size !== entry.s || f.known.has(entry.u)) continue;
        f.known.add(entry.u);
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
      f.headed = false;
    }
  }

  /** Queues a freshly parsed message for the folder's file. */
  record(view: FolderView, uid: number, parsed: ParsedMessage): void {
    const f = this.folder(view);
    if (f.known.has(uid) || f.pending.length >= MAX_PENDING) return;
    f.known.add(uid);
    if (!f.headed) {
      f.pending.push(`${JSON.stringify({ v: VERSION })}\n`);
      f.headed = true;
    }
    f.pending.push(`${JSON.stringify({ u: uid, s: parsed.size, r: parsed.root })}\n`);
    if (f.pending.length >= BATCH) void this.flushFolder(f);
    else if (!f.timer) {
      f.timer = setTimeout(() => void this.flushFolder(f), FLUSH_DELAY_MS);
      f.timer.unref();
    }
  }

  private async flushFolder(f: FolderFile): Promise<void> {
    if (f.timer) clearTimeout(f.timer);
    f.timer = undefined;
    while (f.writing) await f.writing;
    if (f.pending.length === 0) return;
    const data = f.pending.join('');
    f.pending = [];
    f.writing = (async () => {
      try {
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
