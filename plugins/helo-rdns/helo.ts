/**
 * What a HELO/EHLO argument says about the client, no hooks. RFC 5321 §4.1.1.1: the argument is
 * the client's fully qualified domain name, or an address literal ([192.0.2.1], [IPv6:2001:db8::1],
 * §4.1.3) when it has none.
 */
import { isIP } from 'node:net';
import { sameAddress } from '../../core/dns/reverse-name.ts';

export type HeloCheck = 'syntax' | 'bareIp' | 'literalMismatch' | 'impersonation';

export interface HeloFinding {
  readonly check: HeloCheck;
  readonly result: string;
  readonly reason: string;
}

export interface HeloContext {
  readonly clientIp: string;
  /** This server's host name and the local domains, lower case. */
  readonly ourNames: ReadonlySet<string>;
}

/** Client text going into a reason (and so maybe a header): printable ASCII only, bounded. */
export function printable(s: string): string {
  return s.replace(/[^\x21-\x7e]/g, '?').slice(0, 80);
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/i;

/** The address inside a literal, or undefined when the literal is malformed. */
export function literalAddress(helo: string): string | undefined {
  const m = /^\[(?:IPv6:)?([^\]]+)\]$/i.exec(helo);
  if (!m) return undefined;
  const inner = m[1];
  const v6 = /^\[IPv6:/i.test(helo);
  if (v6 ? isIP(inner) !== 6 : isIP(inner) !== 4) return undefined;
  return inner;
}

/** Why the argument is not a fully qualified domain name, or undefined when it is one. */
export function fqdnProblem(name: string): string | undefined {
  const n = name.replace(/\.$/, '');
  if (!n) return 'empty';
  if (n.length > 253) return 'longer than 253 characters';
  const labels = n.split('.');
  if (labels.length < 2) return 'not a fully qualified domain name';
  const bad = labels.find((l) => !LABEL.test(l));
  if (bad !== undefined) return `bad label "${printable(bad)}"`;
  // A top-level domain is never all digits (RFC 3696 §2), so 1.2.3.999 is not a name either.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return 'numeric top-level domain';
  return undefined;
}

export function analyzeHelo(rawHelo: string, ctx: HeloContext): HeloFinding[] {
  const helo = rawHelo.trim();
  const shown = printable(helo);
  if (helo.startsWith('[')) {
    const addr = literalAddress(helo);
    if (!addr) return [{ check: 'syntax', result: 'invalid', reason: `malformed address literal ${shown}` }];
    if (!sameAddress(addr, ctx.clientIp)) return [{ check: 'literalMismatch', result: 'mismatch', reason: `HELO ${shown} from ${ctx.clientIp}` }];
    return [];
  }
  if (isIP(helo) !== 0) return [{ check: 'bareIp', result: 'bare-ip', reason: `HELO ${shown} without brackets (RFC 5321 section 4.1.3)` }];
  const problem = fqdnProblem(helo);
  if (problem) return [{ check: 'syntax', result: 'invalid', reason: `HELO ${shown}: ${problem}` }];
  const name = helo.toLowerCase().replace(/\.$/, '');
  if (ctx.ourNames.has(name)) return [{ check: 'impersonation', result: 'impersonation', reason: `HELO ${name} is this server's own name or domain` }];
  return [];
}
