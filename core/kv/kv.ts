/**
 * A small key-value interface for state that several processes may need to share (rate limits,
 * greylisting, notifications). In memory by default; a plugin may provide a Redis-backed one.
 */
export interface KeyValueStore {
  get(key: string): Promise<string | undefined>;
  /** Several keys in one call (one round trip for Redis: MGET), in the order asked. */
  getMany(keys: readonly string[]): Promise<Array<string | undefined>>;
  /** Set with an optional time to live in milliseconds. With `nx`, only when absent; returns whether it was set. */
  set(key: string, value: string, opts?: { ttlMs?: number; nx?: boolean }): Promise<boolean>;
  /** Add `by` and return the new value; the ttl applies when the key is created. */
  incr(key: string, by?: number, ttlMs?: number): Promise<number>;
  del(key: string): Promise<void>;
  /** Send a message to every subscriber of the channel (in every process when the store is shared). */
  publish(channel: string, message: string): Promise<void>;
  /** Listen on a channel; resolves once listening, to the function that stops it. */
  subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}
