import type { DnsResolver } from '../dns.ts';

/** mailauth's resolver contract is `dns.promises.resolve(name, rrtype)`; TXT answers are string[][]. */
export type MailauthResolver = (name: string, rrtype: string) => Promise<string[][]>;

export function mailauthResolver(dns: DnsResolver): MailauthResolver {
  return (name, rrtype) => dns.resolve(name, rrtype) as Promise<string[][]>;
}
