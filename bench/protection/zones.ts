// The DNS data the protection plugins query for a client on 127.0.0.1 sending as
// from@bench.test with HELO client.bench.test. Served by core/testing/dns-server.ts.
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

/**
 * Variant where the lists answer: the client is on every block list (127.0.0.2, with a TXT
 * reason) and on the allow list; or (listed=false) back to NXDOMAIN everywhere.
 */
export function setListed(dns: { set(name: string, r: { A?: string[]; TXT?: string[] } | undefined): void }, listed: boolean): void {
  for (const z of BLOCK_ZONES) dns.set(listedName(z), listed ? { A: ['127.0.0.2'], TXT: [`listed by ${z} (bench)`] } : undefined);
}
