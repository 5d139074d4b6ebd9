import { promises as dnsp } from 'node:dns';

/**
 * The resolver plugins use, injected so tests point it at a DNS server on 127.0.0.1.
 * The shape is node's `dns.promises.Resolver` subset, which mailauth also accepts.
 */
export interface DnsResolver {
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  resolveMx(name: string): Promise<Array<{ exchange: string; priority: number }>>;
  resolveTxt(name: string): Promise<string[][]>;
  reverse(ip: string): Promise<string[]>;
  resolve(name: string, rrtype: string): Promise<unknown>;
}

export interface DnsOptions {
  /** host or host:port; empty means the system's resolvers. */
  servers?: string[];
  timeoutMs?: number;
  tries?: number;
}

export function createResolver(opts: DnsOptions = {}): DnsResolver {
  const r = new dnsp.Resolver({ timeout: opts.timeoutMs ?? 5000, tries: opts.tries ?? 2 });
  if (opts.servers?.length) r.setServers(opts.servers);
  return {
    resolve4: (n) => r.resolve4(n),
    resolve6: (n) => r.resolve6(n),
    resolveMx: (n) => r.resolveMx(n),
    resolveTxt: (n) => r.resolveTxt(n),
    reverse: (ip) => r.reverse(ip),
    resolve: (n, t) => r.resolve(n, t as 'A'),
  };
}
