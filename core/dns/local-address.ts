/**
 * Addresses no public DNS list or reverse zone knows about: loopback, private (RFC 1918, RFC 4193),
 * link-local, shared address space (RFC 6598). Looking them up only leaks internal addresses.
 */
import { BlockList, isIP } from 'node:net';
import { plainAddress } from './reverse-name.ts';

const V4 = ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '0.0.0.0/8'];
const V6 = ['::1/128', '::/128', 'fc00::/7', 'fe80::/10'];

/** A fresh list each call site keeps (BlockList is mutable, so none is shared at module level). */
export function createLocalNetworks(): (ip: string) => boolean {
  const list = new BlockList();
  for (const n of V4) {
    const [a, b] = n.split('/') as [string, string];
    list.addSubnet(a, Number(b), 'ipv4');
  }
  for (const n of V6) {
    const [a, b] = n.split('/') as [string, string];
    list.addSubnet(a, Number(b), 'ipv6');
  }
  return (ip: string) => {
    const p = plainAddress(ip);
    const family = isIP(p);
    return family !== 0 && list.check(p, family === 4 ? 'ipv4' : 'ipv6');
  };
}
