/**
 * User ids are mail addresses in canonical form: `local@domain`, lower-cased. The local part is a
 * dot-atom (RFC 5322 §3.2.3; UTF-8 allowed as RFC 6531 does); quoted local parts are not accepted
 * for logins. The domain is an ASCII host name (IDNs in their xn-- A-label form).
 */

const ATEXT = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-\\u{80}-\\u{10FFFF}]";
const LOCAL = new RegExp(`^${ATEXT}+(?:\\.${ATEXT}+)*$`, 'u');
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** Lower-case form used as the id and for lookups; no validation. */
export function canonicalAddress(s: string): string {
  return s.toLowerCase();
}

/** Why `s` is not a valid user address, or undefined when it is. */
export function addressProblem(s: string): string | undefined {
  const at = s.lastIndexOf('@');
  if (at < 0) return 'missing "@"';
  const local = s.slice(0, at);
  const domain = s.slice(at + 1).toLowerCase();
  // RFC 5321 §4.5.3.1: local part 64 octets, domain 255, path 256 with the angle brackets.
  if (!local) return 'empty local part';
  if (Buffer.byteLength(local) > 64) return 'local part longer than 64 octets';
  if (!LOCAL.test(local)) return 'local part has characters that need quoting (not supported)';
  if (!domain) return 'empty domain';
  if (Buffer.byteLength(s) > 254) return 'address longer than 254 octets';
  if (!domain.split('.').every((l) => LABEL.test(l))) return `"${domain}" is not a valid domain name`;
  return undefined;
}

/** The canonical address, or throws naming the problem. */
export function validAddress(s: string): string {
  const problem = addressProblem(s);
  if (problem) throw new TypeError(`invalid address "${s}": ${problem}`);
  return canonicalAddress(s);
}

export function splitAddress(id: string): { local: string; domain: string } {
  const at = id.lastIndexOf('@');
  return { local: id.slice(0, at), domain: id.slice(at + 1) };
}
