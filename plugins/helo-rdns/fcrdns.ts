/**
 * Forward-confirmed reverse DNS (RFC 8601 §3 "iprev"): the client's PTR names, each looked up
 * forward, and one of them must lead back to the client's address. No hooks.
 */
import { isIP } from 'node:net';
import { isNegative, type DnsResolver } from '../../core/dns.ts';
import { plainAddress, sameAddress } from '../../core/dns/reverse-name.ts';

export interface FcrdnsResult {
  /** pass: confirmed; fail: names that do not lead back; none: no PTR; temperror: no answer. */
  readonly result: 'pass' | 'fail' | 'none' | 'temperror';
  /** The confirmed name (pass), or the first PTR name otherwise. */
  readonly hostname?: string;
  readonly names: readonly string[];
}

/** At most this many PTR names are followed, so a hostile reverse zone cannot make us work hard. */
const MAX_NAMES = 10;

/**
 * `known` are PTR names already looked up (the core's rDNS, `clientHostname`); without them the
 * PTR lookup is made here.
 */
export async function forwardConfirm(dns: DnsResolver, ip: string, timeoutMs: number, known?: readonly string[]): Promise<FcrdnsResult> {
  const addr = plainAddress(ip);
  let names: string[];
  if (known?.length) names = [...known];
  else {
    try {
      names = await dns.reverse(addr, { timeoutMs });
    } catch (err) {
      return { result: isNegative(err) ? 'none' : 'temperror', names: [] };
    }
  }
  names = [...new Set(names.map((n) => n.toLowerCase().replace(/\.$/, '')).filter(Boolean))].slice(0, MAX_NAMES);
  if (!names.length) return { result: 'none', names };
  const v6 = isIP(addr) === 6;
  let unanswered = false;
  const confirmed = await Promise.all(names.map(async (n) => {
    try {
      const addrs = v6 ? await dns.resolve6(n, { timeoutMs }) : await dns.resolve4(n, { timeoutMs });
      return addrs.some((a) => sameAddress(a, addr));
    } catch (err) {
      if (!isNegative(err)) unanswered = true;
      return false;
    }
  }));
  const i = confirmed.indexOf(true);
  if (i >= 0) return { result: 'pass', hostname: names[i], names };
  return { result: unanswered ? 'temperror' : 'fail', hostname: names[0], names };
}
