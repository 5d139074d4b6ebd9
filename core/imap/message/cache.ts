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
  readonly memo: { envelope?: ImapValue; envelopeText?: string };
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
