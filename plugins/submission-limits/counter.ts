import type { KeyValueStore } from '../../core/kv/kv.ts';

/** One fixed-window counter in the shared kv store (works across processes and nodes with Redis). */
export interface WindowCount {
  readonly kv: KeyValueStore;
  readonly prefix: string;
  readonly windowMs: number;
  readonly now: number;
}

/** The key of `who` in the window that contains `now`; it expires with its window. */
export function windowKey(c: WindowCount, kind: string, who: string): string {
  return `${c.prefix}:${Math.floor(c.now / c.windowMs)}:${kind}:${who.toLowerCase()}`;
}

/**
 * Count `by` against every (key, limit) pair atomically per key; when any limit is exceeded the
 * counts are taken back (a refused message or recipient does not use up the allowance) and the
 * first exceeded entry is returned. A limit of 0 means none.
 */
export async function take(c: WindowCount, entries: ReadonlyArray<{ kind: string; who: string; limit: number }>, by = 1): Promise<{ kind: string; who: string; limit: number } | undefined> {
  const active = entries.filter((e) => e.limit > 0);
  const keys = active.map((e) => windowKey(c, e.kind, e.who));
  // TTL: the rest of the window at most; one whole window keeps it simple and bounded.
  const counts = await Promise.all(keys.map((k) => c.kv.incr(k, by, c.windowMs)));
  const over = active.find((e, i) => counts[i] > e.limit);
  if (over) await Promise.all(keys.map((k) => c.kv.incr(k, -by, c.windowMs)));
  return over;
}
