import { request } from 'node:https';
import type { DnsResolver } from '../../core/dns.ts';
import type { KeyValueStore } from '../../core/kv/kv.ts';
import { addressesOf } from './mx.ts';
import { parseStsPolicy, parseStsRecord, type StsPolicy } from './mta-sts.ts';

export interface StsFetchOptions {
  readonly dns: DnsResolver;
  readonly kv: KeyValueStore;
  readonly now: () => number;
  /** 443 in production; tests point it at a local HTTPS server. */
  readonly httpsPort: number;
  /** Trusted CAs for the policy host (system roots plus tls.caFile); undefined: the system's. */
  readonly ca?: readonly (string | Buffer)[] | undefined;
  readonly timeoutMs: number;
  readonly maxBytes: number;
}

interface Cached {
  id: string;
  policy: StsPolicy;
  expiresAt: number;
}

export type StsLookup =
  | { readonly kind: 'none' }
  | { readonly kind: 'policy'; readonly policy: StsPolicy; readonly id: string; readonly from: 'cache' | 'fetch' };

const cacheKey = (domain: string) => `outbound:mta-sts:${domain}`;

/**
 * GET https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 §3.3): the host is resolved through
 * the injected resolver and the certificate must be valid for mta-sts.DOMAIN; redirects are not
 * followed, only a 200 with a text/plain body counts, and the body is capped.
 */
export async function fetchStsPolicy(domain: string, o: StsFetchOptions): Promise<string> {
  const host = `mta-sts.${domain}`;
  const { addresses, tempError } = await addressesOf(o.dns, host);
  if (!addresses.length) throw new Error(tempError ?? `${host} has no address`);
  return new Promise<string>((resolve, reject) => {
    const req = request({
      host: addresses[0], port: o.httpsPort, path: '/.well-known/mta-sts.txt', method: 'GET',
      servername: host, headers: { host }, agent: false, timeout: o.timeoutMs,
      ...(o.ca ? { ca: o.ca as Array<string | Buffer> } : {}),
    }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`policy fetch answered HTTP ${res.statusCode ?? '?'}`));
        return;
      }
      if (!/^text\/plain\b/i.test(res.headers['content-type'] ?? '')) {
        res.resume();
        reject(new Error('policy is not text/plain'));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > o.maxBytes) req.destroy(new Error(`policy larger than ${o.maxBytes} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('policy fetch timed out')));
    req.on('error', reject);
    req.end();
  });
}

/**
 * The MTA-STS policy of a domain (RFC 8461 §5.1): the TXT id decides whether the cached policy is
 * still current; a new id (or none cached) means fetch; a failed lookup or fetch falls back to an
 * unexpired cached policy. Cached in the kv store until max_age runs out.
 */
export async function lookupSts(domain: string, o: StsFetchOptions, onError: (what: string) => void): Promise<StsLookup> {
  const raw = await o.kv.get(cacheKey(domain));
  let cached: Cached | undefined;
  if (raw) {
    try {
      cached = JSON.parse(raw) as Cached;
      if (cached.expiresAt <= o.now()) cached = undefined;
    } catch {
      cached = undefined;
    }
  }
  const fromCache = (): StsLookup => (cached ? { kind: 'policy', policy: cached.policy, id: cached.id, from: 'cache' } : { kind: 'none' });
  let id: string | undefined;
  try {
    id = parseStsRecord(await o.dns.resolveTxt(`_mta-sts.${domain}`));
  } catch (err) {
    const c = (err as { code?: string }).code;
    if (c !== 'ENODATA' && c !== 'ENOTFOUND') onError(`TXT _mta-sts.${domain}: ${c ?? (err as Error).message}`);
    return fromCache();
  }
  // §3.1/§5.1: no record while a cached policy is unexpired → keep using the cache.
  if (!id) return fromCache();
  if (cached && cached.id === id) return fromCache();
  try {
    const policy = parseStsPolicy(await fetchStsPolicy(domain, o));
    if (!policy) throw new Error('invalid policy text');
    const entry: Cached = { id, policy, expiresAt: o.now() + policy.maxAge * 1000 };
    if (policy.maxAge > 0) await o.kv.set(cacheKey(domain), JSON.stringify(entry), { ttlMs: policy.maxAge * 1000 });
    return { kind: 'policy', policy, id, from: 'fetch' };
  } catch (err) {
    onError(`policy fetch for ${domain}: ${(err as Error).message}`);
    return fromCache();
  }
}
