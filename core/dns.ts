import { promises as dnsp } from 'node:dns';
import { systemClock, type Clock } from './clock.ts';
import { DnsCache } from './dns/cache.ts';
import { DnsError, ETIMEOUT, isNegative, dnsErrorCode } from './dns/errors.ts';
import { ptrName } from './dns/reverse-name.ts';

export { DnsError, ETIMEOUT, isNegative, isTimeout, dnsErrorCode } from './dns/errors.ts';

/** Per-call limits; a lookup never takes longer than the resolver's own `timeoutMs` either. */
export interface LookupOptions {
  timeoutMs?: number;
}

/**
 * The resolver plugins use, injected so tests point it at a DNS server on 127.0.0.1.
 * The shape is node's `dns.promises.Resolver` subset, which mailauth also accepts through
 * `resolve(name, rrtype)` (it expects node's codes: ENOTFOUND for NXDOMAIN, ENODATA for NODATA).
 * A lookup that runs out of time rejects with code ETIMEOUT, so callers can tell "no answer" from
 * "no such name".
 */
export interface DnsResolver {
  resolve4(name: string, opts?: LookupOptions): Promise<string[]>;
  resolve6(name: string, opts?: LookupOptions): Promise<string[]>;
  resolveMx(name: string, opts?: LookupOptions): Promise<Array<{ exchange: string; priority: number }>>;
  resolveTxt(name: string, opts?: LookupOptions): Promise<string[][]>;
  reverse(ip: string, opts?: LookupOptions): Promise<string[]>;
  resolve(name: string, rrtype: string, opts?: LookupOptions): Promise<unknown>;
}

export interface DnsCacheOptions {
  /** Most answers kept; the least recently used go first. 0 turns the cache off. */
  maxEntries?: number;
  /** TTL for answers whose TTL the resolver does not report (all but A/AAAA). */
  defaultTtlSec?: number;
  minTtlSec?: number;
  maxTtlSec?: number;
  /** How long NXDOMAIN/NODATA answers are kept (RFC 2308). */
  negativeTtlSec?: number;
}

export interface DnsOptions {
  /** host or host:port; empty means the system's resolvers. */
  servers?: string[];
  /** Time for one lookup, all tries included. */
  timeoutMs?: number;
  tries?: number;
  cache?: DnsCacheOptions;
  clock?: Clock;
}

/** What createResolver returns: the resolver plus its cache, for stats and tests. */
export interface CachingResolver extends DnsResolver {
  readonly cache: { readonly size: number; readonly hits: number; readonly misses: number; clear(): void };
  /** Cancels lookups in flight (they fail with ECANCELLED); for the server's stop. */
  close(): void;
}

interface Answer {
  value: unknown;
  /** Seconds, when the server told us. */
  ttl?: number;
}

const normalizeName = (name: string) => name.toLowerCase().replace(/\.$/, '');

/** Reject with ETIMEOUT after `ms`; the timer never keeps the process alive. */
function withDeadline<T>(p: Promise<T>, ms: number, rrtype: string, name: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DnsError(ETIMEOUT, rrtype, name, `${rrtype} ${name}: no answer within ${ms} ms`)), ms);
    timer.unref();
    p.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (e: unknown) => {
      clearTimeout(timer);
      reject(e instanceof Error ? e : new Error(String(e)));
    });
  });
}

/**
 * A resolver with per-lookup deadlines, a TTL cache (answer TTLs where node reports them, a
 * configured TTL otherwise, short-lived negative entries) and one shared query for concurrent
 * identical lookups. Each server instance creates its own: no module-level state.
 */
export function createResolver(opts: DnsOptions = {}): CachingResolver {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const tries = opts.tries ?? 2;
  const c = opts.cache ?? {};
  const minTtl = c.minTtlSec ?? 0;
  const maxTtl = c.maxTtlSec ?? 3600;
  const defaultTtl = c.defaultTtlSec ?? 300;
  const negativeTtl = c.negativeTtlSec ?? 60;
  const clampTtl = (s: number) => Math.min(maxTtl, Math.max(minTtl, s));
  // c-ares backs off between tries; split the budget so all tries fit in it.
  const r = new dnsp.Resolver({ timeout: Math.max(50, Math.floor(timeoutMs / tries)), tries });
  if (opts.servers?.length) r.setServers(opts.servers);
  const cache = new DnsCache(c.maxEntries ?? 10_000, opts.clock ?? systemClock);
  const inflight = new Map<string, Promise<unknown>>();

  const query = async (rrtype: string, name: string): Promise<Answer> => {
    if (rrtype === 'A' || rrtype === 'AAAA') {
      const recs = rrtype === 'A' ? await r.resolve4(name, { ttl: true }) : await r.resolve6(name, { ttl: true });
      return { value: recs.map((x) => x.address), ttl: Math.min(...recs.map((x) => x.ttl)) };
    }
    return { value: await r.resolve(name, rrtype as 'TXT') };
  };

  const ask = async (key: string, rrtype: string, name: string): Promise<unknown> => {
    try {
      const a = await withDeadline(query(rrtype, name), timeoutMs, rrtype, name);
      cache.set(key, { kind: 'answer', value: a.value }, clampTtl(a.ttl !== undefined && Number.isFinite(a.ttl) ? a.ttl : defaultTtl));
      return a.value;
    } catch (err) {
      // Node's own errors carry the code; wrap them so every error names type and name.
      const code = dnsErrorCode(err) ?? 'EUNKNOWN';
      if (isNegative(err)) cache.set(key, { kind: 'negative', code }, negativeTtl);
      throw err instanceof DnsError ? err : new DnsError(code, rrtype, name);
    }
  };

  const lookup = async (rrtype: string, rawName: string, o?: LookupOptions): Promise<unknown> => {
    const name = normalizeName(rawName);
    const key = `${rrtype} ${name}`;
    const hit = cache.get(key);
    if (hit?.kind === 'negative') throw new DnsError(hit.code, rrtype, name);
    if (hit) return structuredClone(hit.value);
    let p = inflight.get(key);
    if (!p) {
      p = ask(key, rrtype, name).finally(() => inflight.delete(key));
      inflight.set(key, p);
    }
    const shared = p;
    const value = o?.timeoutMs !== undefined && o.timeoutMs < timeoutMs ? await withDeadline(shared, Math.max(1, o.timeoutMs), rrtype, name) : await shared;
    // Callers own what they get: never hand out the cached object itself.
    return structuredClone(value);
  };

  return {
    resolve4: (n, o) => lookup('A', n, o) as Promise<string[]>,
    resolve6: (n, o) => lookup('AAAA', n, o) as Promise<string[]>,
    resolveMx: (n, o) => lookup('MX', n, o) as Promise<Array<{ exchange: string; priority: number }>>,
    resolveTxt: (n, o) => lookup('TXT', n, o) as Promise<string[][]>,
    reverse: async (ip, o) => {
      const name = ptrName(ip);
      if (!name) throw new DnsError('EINVAL', 'PTR', ip, `not an IP address: ${ip}`);
      return lookup('PTR', name, o) as Promise<string[]>;
    },
    resolve: (n, t, o) => lookup(t.toUpperCase(), n, o),
    cache: {
      get size() {
        return cache.size;
      },
      get hits() {
        return cache.hits;
      },
      get misses() {
        return cache.misses;
      },
      clear: () => cache.clear(),
    },
    close: () => r.cancel(),
  };
}
