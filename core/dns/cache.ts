/**
 * A bounded TTL cache for DNS answers (positive and negative), oldest-used evicted first. Time comes
 * from an injected clock so tests can expire entries without waiting.
 */
import type { Clock } from '../clock.ts';

export type CachedAnswer =
  | { readonly kind: 'answer'; readonly value: unknown }
  /** NXDOMAIN (ENOTFOUND) or NODATA (ENODATA), cached as RFC 2308 allows. */
  | { readonly kind: 'negative'; readonly code: string };

interface Entry {
  readonly answer: CachedAnswer;
  readonly expiresAt: number;
}

export class DnsCache {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #clock: Clock;
  hits = 0;
  misses = 0;

  constructor(maxEntries: number, clock: Clock) {
    this.#maxEntries = maxEntries;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedAnswer | undefined {
    const e = this.#entries.get(key);
    if (!e) {
      this.misses++;
      return undefined;
    }
    if (e.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      this.misses++;
      return undefined;
    }
    // Re-insert so Map order is least-recently-used first.
    this.#entries.delete(key);
    this.#entries.set(key, e);
    this.hits++;
    return e.answer;
  }

  set(key: string, answer: CachedAnswer, ttlSec: number): void {
    if (this.#maxEntries <= 0 || ttlSec <= 0) return;
    this.#entries.delete(key);
    this.#entries.set(key, { answer, expiresAt: this.#clock.now() + ttlSec * 1000 });
    while (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done) break;
      this.#entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.#entries.clear();
  }
}
