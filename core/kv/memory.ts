import type { Clock } from '../clock.ts';
import type { KeyValueStore } from './kv.ts';

/** The embedded default: one process, expiry checked on read plus a periodic sweep. */
export class MemoryKv implements KeyValueStore {
  readonly #data = new Map<string, { value: string; expires: number }>();
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  readonly #clock: Clock;
  readonly #sweep: NodeJS.Timeout;

  constructor(clock: Clock, sweepMs = 60_000) {
    this.#clock = clock;
    this.#sweep = setInterval(() => this.#expire(), sweepMs);
    this.#sweep.unref();
  }

  #live(key: string) {
    const e = this.#data.get(key);
    if (e && e.expires <= this.#clock.now()) {
      this.#data.delete(key);
      return undefined;
    }
    return e;
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#data) if (e.expires <= now) this.#data.delete(k);
  }

  async get(key: string) {
    return this.#live(key)?.value;
  }

  async getMany(keys: readonly string[]) {
    return keys.map((k) => this.#live(k)?.value);
  }

  async set(key: string, value: string, opts: { ttlMs?: number; nx?: boolean } = {}) {
    if (opts.nx && this.#live(key)) return false;
    this.#data.set(key, { value, expires: opts.ttlMs ? this.#clock.now() + opts.ttlMs : Infinity });
    return true;
  }

  async incr(key: string, by = 1, ttlMs?: number) {
    const e = this.#live(key);
    const next = (e ? Number(e.value) || 0 : 0) + by;
    this.#data.set(key, { value: String(next), expires: e ? e.expires : ttlMs ? this.#clock.now() + ttlMs : Infinity });
    return next;
  }

  async del(key: string) {
    this.#data.delete(key);
  }

  async publish(channel: string, message: string) {
    // Delivered asynchronously, as a networked store would: a publisher never runs listeners inline.
    const set = this.#channels.get(channel);
    if (!set?.size) return;
    for (const l of [...set]) queueMicrotask(() => l(message));
  }

  async subscribe(channel: string, listener: (message: string) => void) {
    let set = this.#channels.get(channel);
    if (!set) this.#channels.set(channel, (set = new Set()));
    set.add(listener);
    return async () => {
      set.delete(listener);
      if (!set.size) this.#channels.delete(channel);
    };
  }

  async close() {
    clearInterval(this.#sweep);
    this.#channels.clear();
    this.#data.clear();
  }
}
