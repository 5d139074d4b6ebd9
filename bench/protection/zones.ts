// The DNS data the protection plugins query for a client on 127.0.0.1 sending as
// from@bench.test with HELO client.bench.test. Served by unbound (unbound.ts, as local data) or
// by core/testing/dns-server.ts (dns-node.ts, and the slow-DNS check).
import { ptrName, type DnsZone } from '../../core/testing/dns-server.ts';

export const CLIENT_IP = '127.0.0.1';
export const HELO_NAME = 'client.bench.test';
export const SENDER_DOMAIN = 'bench.test';
export const BLOCK_ZONES = ['zen.dnsbl.test', 'bl.dnsbl.test'] as const;
export const ALLOW_ZONE = 'list.dnswl.test';

/** The RFC 5782 query name of the client in a list zone. */
export const listedName = (zone: string): string => `${CLIENT_IP.split('.').reverse().join('.')}.${zone}`;

export function benchZone(): DnsZone {
  return {
    // helo-rdns: forward-confirmed reverse DNS (PTR → name → A back to the client)
    [ptrName(CLIENT_IP)]: { PTR: [HELO_NAME] },
    [HELO_NAME]: { A: [CLIENT_IP] },
    // spf (RFC 7208): the client may send for the envelope domain
    [SENDER_DOMAIN]: { TXT: [`v=spf1 ip4:${CLIENT_IP} -all`] },
    // dmarc (RFC 7489): monitoring only
    [`_dmarc.${SENDER_DOMAIN}`]: { TXT: ['v=DMARC1; p=none'] },
    // dnsbl: nothing listed → NXDOMAIN for every list (see setListed for the other variant)
  };
}

/** The records of the listed variant: the client is on every block list (127.0.0.2, with a TXT reason). */
export function listedZone(): DnsZone {
  return Object.fromEntries(BLOCK_ZONES.map((z) => [listedName(z), { A: ['127.0.0.2'], TXT: [`listed by ${z} (bench)`] }]));
}

/** Switches a dns-server.ts zone to the listed variant, or (listed=false) back to NXDOMAIN everywhere. */
export function setListed(dns: { set(name: string, r: { A?: string[]; TXT?: string[] } | undefined): void }, listed: boolean): void {
  for (const [name, r] of Object.entries(listedZone())) dns.set(name, listed ? r : undefined);
}
