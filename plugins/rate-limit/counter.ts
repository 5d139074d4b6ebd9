/**
 * Counting over a KeyValueStore: fixed windows aligned to the clock, and a concurrency gauge.
 * No hooks here. With Redis as the store every server counts into the same keys.
 */
import type { Clock } from '../../core/clock.ts';
import type { KeyValueStore } from '../../core/kv/kv.ts';

export class Counters {
  readonly #kv: KeyValueStore;
  readonly #clock: Clock;

  constructor(kv: KeyValueStore, clock: Clock) {
    this.#kv = kv;
    this.#clock = clock;
  }

  /**
   * Count one event in the current window and return the count including it. The window index is
   * part of the key (so an injected clock moves windows for any store) and the key expires with
   * its window.
   */
  async hit(name: string, id: string, windowMs: number, by = 1): Promise<number> {
    const now = this.#clock.now();
    const w = Math.floor(now / windowMs);
    const left = (w + 1) * windowMs - now;
    return this.#kv.incr(`rate:${name}:${w}:${id}`, by, left + 1000);
  }

  /** One more open connection; the count includes it. */
  async open(id: string, staleAfterMs: number): Promise<number> {
    return this.#kv.incr(`rate:open:${id}`, 1, staleAfterMs);
  }

  /** One connection fewer. A gauge that reaches zero (or below, after a stale reset) is removed. */
  async close(id: string): Promise<void> {
    const n = await this.#kv.incr(`rate:open:${id}`, -1);
    if (n <= 0) await this.#kv.del(`rate:open:${id}`);
  }
}
