import { promises as dnsp } from 'node:dns';
import { systemClock, type Clock } from './clock.ts';
import { DnsCache } from './dns/cache.ts';
import { DnsError, ETIMEOUT, isNegative, dnsErrorCode } from './dns/errors.ts';
import { ptrName } from './dns/reverse-name.ts';
import { parseServer, WireClient } from './dns/wire-client.ts';
import { WIRE_TYPES, type WireType } from './dns/wire.ts';

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
  /** TTL for answers whose TTL the client does not report (with node's client: all but A/AAAA). */
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
  /**
   * Who sends A, AAAA, MX, TXT and PTR queries: 'pochta' (dns/wire-client.ts: connected sockets
   * kept open, a turn's queries sent together) or 'node' (c-ares, a new socket per burst of
   * queries). Other types always go through node.
   */
  client?: 'pochta' | 'node';
}

/** What createResolver returns: the resolver plus its cache, for stats and tests. */
export interface CachingResolver extends DnsResolver {
  readonly cache: { readonly size: number; readonly hits: number; readonly misses: number; clear(): void };
  /** Cancels lookups in flight (they fail with ECANCELLED); for the server's stop. */
  close(): void;
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
 * A copy of an answer for one caller: callers own what they get, never the cached or shared
 * object itself. Answers are lists of strings (A, AAAA, PTR), of string lists (TXT) or of records
 * (MX, SRV …); the first two, nearly every lookup, are copied directly.
 */
function copyAnswer(v: unknown): unknown {
  if (!Array.isArray(v)) return structuredClone(v);
  return v.map((x: unknown) => (typeof x === 'string' ? x : Array.isArray(x) && x.every((y) => typeof y === 'string') ? [...x] : structuredClone(x)));
}

type Ttl = { address: string; ttl: number };

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
  let wire: WireClient | undefined;
  if ((opts.client ?? 'pochta') === 'pochta') {
    // The configured servers, else the system's as node read them (resolv.conf).
    const servers = r.getServers().map(parseServer);
    if (servers.length && servers.every((x) => x !== undefined)) wire = new WireClient(servers, { timeoutMs, tries });
  }

  const failed = (key: string, rrtype: string, name: string) => (err: unknown): never => {
    // Node's own errors carry the code; wrap them so every error names type and name.
    const code = dnsErrorCode(err) ?? 'EUNKNOWN';
    if (isNegative(err)) cache.set(key, { kind: 'negative', code }, negativeTtl);
    throw err instanceof DnsError ? err : new DnsError(code, rrtype, name);
  };

  // Plain promise chains, no async layers: this runs for every query of every message (7 with
  // the full protection set), and each layer was a measurable share of its CPU.
  const ask = (key: string, rrtype: string, name: string): Promise<unknown> => {
    if (wire && WIRE_TYPES.has(rrtype)) {
      // The client keeps to timeoutMs itself (its attempts share it): no second timer here.
      return wire.query(name, rrtype as WireType).then((a) => {
        cache.set(key, { kind: 'answer', value: a.values }, clampTtl(Number.isFinite(a.ttl) ? a.ttl : defaultTtl));
        return a.values;
      }, failed(key, rrtype, name));
    }
    const withTtl = rrtype === 'A' || rrtype === 'AAAA';
    let sent: Promise<unknown>;
    try {
      sent = rrtype === 'A' ? r.resolve4(name, { ttl: true }) : rrtype === 'AAAA' ? r.resolve6(name, { ttl: true }) : r.resolve(name, rrtype as 'TXT');
    } catch (err) {
      // node throws synchronously for an unknown type or a bad name: still a rejection here.
      sent = Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return withDeadline(sent, timeoutMs, rrtype, name).then((answer) => {
      let value = answer;
      let ttl = defaultTtl;
      if (withTtl) {
        const recs = answer as Ttl[];
        value = recs.map((x) => x.address);
        const t = Math.min(...recs.map((x) => x.ttl));
        if (Number.isFinite(t)) ttl = t;
      }
      cache.set(key, { kind: 'answer', value }, clampTtl(ttl));
      return value;
    }, failed(key, rrtype, name));
  };

  const lookup = (rrtype: string, rawName: string, o?: LookupOptions): Promise<unknown> => {
    const name = normalizeName(rawName);
    const key = `${rrtype} ${name}`;
    const hit = cache.get(key);
    if (hit?.kind === 'negative') return Promise.reject(new DnsError(hit.code, rrtype, name));
    if (hit) return Promise.resolve(copyAnswer(hit.value));
    let p = inflight.get(key);
    if (!p) {
      const asked = ask(key, rrtype, name);
      const drop = () => inflight.delete(key);
      asked.then(drop, drop);
      inflight.set(key, asked);
      p = asked;
    }
    const mine = o?.timeoutMs !== undefined && o.timeoutMs < timeoutMs ? withDeadline(p, Math.max(1, o.timeoutMs), rrtype, name) : p;
    return mine.then(copyAnswer);
  };

  return {
    resolve4: (n, o) => lookup('A', n, o) as Promise<string[]>,
    resolve6: (n, o) => lookup('AAAA', n, o) as Promise<string[]>,
    resolveMx: (n, o) => lookup('MX', n, o) as Promise<Array<{ exchange: string; priority: number }>>,
    resolveTxt: (n, o) => lookup('TXT', n, o) as Promise<string[][]>,
    reverse: (ip, o) => {
      const name = ptrName(ip);
      if (!name) return Promise.reject(new DnsError('EINVAL', 'PTR', ip, `not an IP address: ${ip}`));
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
    close: () => {
      r.cancel();
      wire?.close();
    },
  };
}
