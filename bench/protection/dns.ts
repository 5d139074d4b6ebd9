// The DNS server the benchmark's Pochta servers ask, as one interface over its two kinds:
// unbound (unbound.ts, what a site runs) and core/testing/dns-server.ts in a child process
// (dns-node.ts; the slow-DNS check needs it, unbound cannot delay answers). Either runs in its
// own process so that its CPU and RSS are measured apart from Pochta's and the harness's.

export type DnsKind = 'unbound' | 'node';

export interface BenchDns {
  readonly kind: DnsKind;
  /** `127.0.0.1:PORT`, for Pochta's `dns.servers`. */
  readonly server: string;
  /** The server's process (its CPU and RSS are reported in their own columns). */
  readonly pid: number;
  /** Queries answered since start (a counter: callers take differences). */
  queries(): Promise<number>;
  /** The listed variant (zones.ts listedZone) on or off. */
  setListed(listed: boolean): Promise<void>;
  /** Delay every answer (dns-server.ts only; unbound cannot). */
  setDelay?(ms: number): Promise<void>;
  /** Stop the server and its process; idempotent, bounded. */
  stop(): Promise<void>;
}
