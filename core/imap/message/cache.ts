/**
 * LRU of parsed structures keyed by user, folder, UIDVALIDITY and UID (a UID never names other
 * bytes while UIDVALIDITY holds, RFC 3501 §2.3.1.1, so entries never go stale). Concurrent
 * requests for one message share a single parse.
 */
import type { FolderView } from '../../store/mail-store.ts';
import type { ImapValue } from '../types.ts';
import { parseStructure, type MimePart } from './structure.ts';

export interface ParsedMessage {
  readonly size: number;
  readonly root: MimePart;
  readonly memo: { envelope?: ImapValue; envelopeBytes?: Buffer };
}

export function cacheKey(view: FolderView, uid: number): string {
  return `${view.user}\u0000${view.folder}\u0000${view.uidValidity}\u0000${uid}`;
}

export class Lru<V> {
  private readonly map = new Map<string, V>();
  constructor(
    readonly maxEntries: number,
    private readonly onEvict?: (key: string, v: V) => void,
  ) {}
  get(key: string): V | undefined {
    const v = this.map.get(key);
    if (v !== undefined) {
      this.map.delete(key);
      this.map.set(key, v);
    }
    return v;
  }
  set(key: string, v: V): void {
    this.map.delete(key);
    this.map.set(key, v);
    while (this.map.size > this.maxEntries) {
      const oldest = this.map.keys().next();
      if (oldest.done) break;
      const v = this.map.get(oldest.value);
      this.map.delete(oldest.value);
      if (v !== undefined) this.onEvict?.(oldest.value, v);
    }
  }
  values(): IterableIterator<V> {
    return this.map.values();
  }
  has(key: string): boolean {
    return this.map.has(key);
  }
  get size(): number {
    return this.map.size;
  }
}

/**
 * An LRU of per-message entries grouped by folder: one Map per folder keyed by the UID number, so a
 * lookup builds no string key, and recency is kept per folder (a hit moves nothing inside it). When
 * full, the least recently used folder loses its entries in the order they were added — for the
 * usual reader, a whole-folder FETCH, the order they are asked in.
 */
export class FolderLru<V> {
  readonly #folders = new Map<string, Map<number, V>>();
  #newest: string | undefined;
  #size = 0;
  constructor(readonly maxEntries: number) {}

  #touch(folder: string): Map<number, V> | undefined {
    const m = this.#folders.get(folder);
    if (m && this.#newest !== folder) {
      this.#folders.delete(folder);
      this.#folders.set(folder, m);
      this.#newest = folder;
    }
    return m;
  }

  get(folder: string, uid: number): V | undefined {
    return this.#touch(folder)?.get(uid);
  }

  has(folder: string, uid: number): boolean {
    return this.#folders.get(folder)?.has(uid) ?? false;
  }

  set(folder: string, uid: number, v: V): void {
    let m = this.#touch(folder);
    if (!m) {
      m = new Map();
      this.#folders.set(folder, m);
      this.#newest = folder;
    }
    if (!m.has(uid)) this.#size++;
    m.set(uid, v);
    while (this.#size > this.maxEntries) {
      const oldest = this.#folders.entries().next();
      if (oldest.done) break;
      const [name, entries] = oldest.value;
      const first = entries.keys().next();
      if (first.done) {
        this.#folders.delete(name);
        continue;
      }
      entries.delete(first.value);
      this.#size--;
      if (!entries.size) {
        this.#folders.delete(name);
        if (this.#newest === name) this.#newest = undefined;
      }
    }
  }

  get size(): number {
    return this.#size;
  }
}

export async function parseFromView(view: FolderView, uid: number): Promise<ParsedMessage> {
  // With the end known the file stream stops at it, saving the read that would only find EOF.
  const size = view.get(uid)?.size;
  const stream = await view.read(uid, size === undefined ? undefined : { start: 0, end: size });
  try {
    return { ...(await parseStructure(stream)), memo: {} };
  } finally {
    stream.destroy();
  }
}
