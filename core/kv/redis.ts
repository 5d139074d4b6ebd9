/**
 * KeyValueStore on Redis (ioredis): what several Pochta nodes share (greylisting, rate limits,
 * notifications). One connection for commands, a second one, opened on first subscribe, for
 * pub/sub (a subscribed RESP2 connection accepts no other commands).
 *
 * Failure policy belongs to the callers: while Redis is unreachable every call rejects quickly
 * (at once while reconnecting, within commandTimeoutMs otherwise) instead of queueing without
 * bound, so a plugin can fail open or closed as its config says.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../log.ts';
import type { KeyValueStore } from './kv.ts';

export interface RedisKvOptions {
  /** redis://[:password@]host:port[/db] or rediss://; wins over host/port/path. */
  url?: string;
  host?: string;
  port?: number;
  /** A unix socket path. */
  path?: string;
  /** Put before every key and channel, so several deployments can share one Redis. */
  prefix: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
}

// INCRBY and the expiry in one step: the ttl applies only when this call created the key,
// exactly as MemoryKv does, and no other client can see the key without its ttl.
const INCR_SCRIPT = `
local existed = redis.call('EXISTS', KEYS[1])
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if existed == 0 and tonumber(ARGV[2]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/** Reconnect with a growing pause capped at 2 s; never give up (a node outlives a Redis restart). */
const retryStrategy = (attempt: number) => Math.min(attempt * 100, 2000);

export class RedisKv implements KeyValueStore {
  readonly #opts: RedisKvOptions;
  readonly #log: Logger | undefined;
  readonly #cmd: Redis;
  #sub: Redis | undefined;
  readonly #channels = new Map<string, Set<(message: string) => void>>();
  #closed = false;

  constructor(opts: RedisKvOptions, log?: Logger) {
    this.#opts = opts;
    this.#log = log;
    this.#cmd = this.#connect('commands');
  }

  #connect(role: string): Redis {
    const o = this.#opts;
    const common: RedisOptions = {
      connectTimeout: o.connectTimeoutMs,
      commandTimeout: o.commandTimeoutMs,
      // A command waiting for a reconnect is flushed with an error after one retry round;
      // with #usable() below, nothing piles up while Redis is away.
      maxRetriesPerRequest: 1,
      enableOfflineQueue: true,
      retryStrategy,
      lazyConnect: false,
    };
    const client = o.url
      ? new Redis(o.url, common)
      : o.path
        ? new Redis({ ...common, path: o.path })
        : new Redis({ ...common, host: o.host ?? '127.0.0.1', port: o.port ?? 6379 });
    // One log line per outage, not one per reconnect attempt; without an error listener ioredis
    // would print to the console.
    let down = true;
    let warned = false;
    client.on('ready', () => {
      if (down) this.#log?.info({ event: 'kv.redis.ready', role }, 'connected to redis');
      down = false;
      warned = false;
    });
    client.on('error', (err: Error) => {
      if (!warned) this.#log?.warn({ event: 'kv.redis.error', role, error: err.message }, 'redis unavailable');
      warned = true;
      down = true;
    });
    return client;
  }

  /** Fail fast while a connection is known to be down; the first connect may still be pending. */
  #usable(client: Redis): void {
    if (this.#closed) throw new Error('kv closed');
    if (client.status === 'reconnecting' || client.status === 'end' || client.status === 'close') {
      throw new Error(`redis unavailable (${client.status})`);
    }
  }

  #key(k: string): string {
    return this.#opts.prefix + k;
  }

  async get(key: string): Promise<string | undefined> {
    this.#usable(this.#cmd);
    return (await this.#cmd.get(this.#key(key))) ?? undefined;
  }

  async getMany(keys: readonly string[]): Promise<Array<string | undefined>> {
    this.#usable(this.#cmd);
    if (keys.length === 0) return [];
    const values = await this.#cmd.mget(keys.map((k) => this.#key(k)));
    return values.map((v) => v ?? undefined);
  }

  async set(key: string, value: string, opts: { ttlMs?: number; nx?: boolean } = {}): Promise<boolean> {
    this.#usable(this.#cmd);
    const k = this.#key(key);
    const ttl = opts.ttlMs && opts.ttlMs > 0 ? Math.ceil(opts.ttlMs) : 0;
    let r: 'OK' | null;
    if (ttl && opts.nx) r = await this.#cmd.set(k, value, 'PX', ttl, 'NX');
    else if (ttl) r = await this.#cmd.set(k, value, 'PX', ttl);
    else if (opts.nx) r = await this.#cmd.set(k, value, 'NX');
    else r = await this.#cmd.set(k, value);
    return r === 'OK';
  }

  async incr(key: string, by = 1, ttlMs?: number): Promise<number> {
    this.#usable(this.#cmd);
    const ttl = ttlMs && ttlMs > 0 ? Math.ceil(ttlMs) : 0;
    const v = await this.#cmd.eval(INCR_SCRIPT, 1, this.#key(key), Math.trunc(by), ttl);
    return Number(v);
  }

  async del(key: string): Promise<void> {
    this.#usable(this.#cmd);
    await this.#cmd.del(this.#key(key));
  }

  async publish(channel: string, message: string): Promise<void> {
    this.#usable(this.#cmd);
    await this.#cmd.publish(this.#key(channel), message);
  }

  #subscriber(): Redis {
    if (this.#sub) return this.#sub;
    const sub = this.#connect('subscriber');
    const plen = this.#opts.prefix.length;
    sub.on('message', (channel: string, message: string) => {
      const set = this.#channels.get(channel.slice(plen));
      if (!set) return;
      for (const l of [...set]) {
        try {
          l(message);
        } catch (err) {
          this.#log?.error({ event: 'kv.listener_failed', err }, 'a kv subscriber threw');
        }
      }
    });
    // Channels whose SUBSCRIBE failed while Redis was away are (re)subscribed when it is back;
    // SUBSCRIBE of a channel already subscribed is harmless.
    sub.on('ready', () => {
      const channels = [...this.#channels.keys()].map((c) => this.#key(c));
      if (channels.length && !this.#closed) sub.subscribe(...channels).catch(() => undefined);
    });
    this.#sub = sub;
    return sub;
  }

  /**
   * Resolves once Redis confirmed the subscription. While Redis is unreachable it resolves anyway
   * (logged): the listener stays registered and the channel is subscribed when Redis is back, so a
   * node can start, and keep its listeners, through a Redis outage.
   */
  async subscribe(channel: string, listener: (message: string) => void): Promise<() => Promise<void>> {
    if (this.#closed) throw new Error('kv closed');
    const sub = this.#subscriber();
    let set = this.#channels.get(channel);
    const first = !set;
    if (!set) this.#channels.set(channel, (set = new Set()));
    set.add(listener);
    if (first) {
      try {
        this.#usable(sub);
        await sub.subscribe(this.#key(channel));
      } catch (err) {
        this.#log?.warn({ event: 'kv.redis.subscribe_pending', channel, error: (err as Error).message }, 'redis unavailable; subscribing when it is back');
      }
    }
    return async () => {
      if (!set.delete(listener) || set.size) return;
      this.#channels.delete(channel);
      // ioredis resubscribes what it knows after a reconnect, so a failed UNSUBSCRIBE while down
      // is retried implicitly; the listener is gone either way.
      if (!this.#closed && sub.status === 'ready') await sub.unsubscribe(this.#key(channel)).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#channels.clear();
    await Promise.all([this.#cmd, this.#sub].map(async (c) => {
      if (!c) return;
      // QUIT waits for pending replies; a connection that is down is simply dropped.
      if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
      else c.disconnect();
    }));
  }
}
