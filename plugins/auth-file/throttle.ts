/**
 * Failed-login throttling, per client address and per username, kept in the shared key-value
 * store (so several nodes sharing Redis count together).
 *
 * Each rule counts failures in a fixed window that starts at the first failure; the failure that
 * reaches `maxFailures` sets a lock for `lockoutMs` and clears the count. While a lock is set, an
 * attempt is answered "try later" without checking its password. A successful login clears the
 * username's count (not the address's: one good account must not reset a guesser's count).
 *
 * Checks and counts are separate steps, so attempts running at the same moment from one address
 * can all pass the check before the lock is set: the per-address connection limit bounds that.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { KeyValueStore } from '../../core/kv/kv.ts';

export interface ThrottleRule {
  /** Failures that trip the lock; 0 switches the rule off. */
  readonly maxFailures: number;
  /** Failures are counted in a window this long, from the first one. */
  readonly windowMs: number;
  /** How long the lock holds. */
  readonly lockoutMs: number;
}

export interface ThrottleOptions {
  kv: KeyValueStore;
  /** Key prefix in the store, e.g. the plugin name. */
  prefix: string;
  perIp: ThrottleRule;
  perUser: ThrottleRule;
}

/** Who is trying: the client address and the (canonical) username. */
export interface ThrottleSubject {
  readonly ip: string;
  readonly user: string;
}

export type ThrottleScope = 'ip' | 'user';

export interface Throttle {
  /** The scope that is locked, or undefined when the attempt may go on. */
  blocked(s: ThrottleSubject): Promise<ThrottleScope | undefined>;
  /** Count a failure; returns the scopes this failure locked. */
  failed(s: ThrottleSubject): Promise<ThrottleScope[]>;
  /** A successful login: forget the username's failures. */
  succeeded(s: ThrottleSubject): Promise<void>;
}

function expandIPv6(a: string): number[] | undefined {
  let s = a.split('%')[0];
  // An embedded IPv4 tail (::ffff:192.0.2.1) becomes two groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const o = v4[1].split('.').map(Number);
    s = s.slice(0, -v4[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0');
  const groups = [...h, ...fill, ...t].map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

/**
 * The address a client is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its /64
 * prefix (one end site usually gets a whole /64, so counting single addresses would not limit it).
 */
export function ipKey(address: string): string {
  if (isIPv4(address)) return address;
  if (!isIPv6(address)) return address;
  const g = expandIPv6(address);
  if (!g) return address;
  if (g.slice(0, 5).every((x) => x === 0) && g[5] === 0xffff) return `${g[6] >> 8}.${g[6] & 0xff}.${g[7] >> 8}.${g[7] & 0xff}`;
  return `${g.slice(0, 4).map((x) => x.toString(16)).join(':')}::/64`;
}

export function createThrottle(o: ThrottleOptions): Throttle {
  const rules: Record<ThrottleScope, ThrottleRule> = { ip: o.perIp, user: o.perUser };
  const value = (scope: ThrottleScope, s: ThrottleSubject) => (scope === 'ip' ? ipKey(s.ip) : s.user);
  const failKey = (scope: ThrottleScope, s: ThrottleSubject) => `${o.prefix}:fail:${scope}:${value(scope, s)}`;
  const lockKey = (scope: ThrottleScope, s: ThrottleSubject) => `${o.prefix}:lock:${scope}:${value(scope, s)}`;
  const active = (): ThrottleScope[] => (['ip', 'user'] as const).filter((scope) => rules[scope].maxFailures > 0);

  return {
    async blocked(s) {
      for (const scope of active()) if ((await o.kv.get(lockKey(scope, s))) !== undefined) return scope;
      return undefined;
    },
    async failed(s) {
      const locked: ThrottleScope[] = [];
      for (const scope of active()) {
        const rule = rules[scope];
        const n = await o.kv.incr(failKey(scope, s), 1, rule.windowMs);
        if (n >= rule.maxFailures) {
          await o.kv.set(lockKey(scope, s), String(n), { ttlMs: rule.lockoutMs });
          await o.kv.del(failKey(scope, s));
          locked.push(scope);
        }
      }
      return locked;
    },
    async succeeded(s) {
      if (rules.user.maxFailures > 0) await o.kv.del(failKey('user', s));
    },
  };
}
