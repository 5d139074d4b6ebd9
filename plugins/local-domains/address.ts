/**
 * Mail addresses as the recipient plugins see them: split into local part, tag and domain, with
 * the domain in one canonical form. Pure; other plugins (aliases) import these helpers.
 *
 * Canonical forms used for comparison and lookup:
 * - domain: lower-case, no trailing dot, IDNA A-labels (`bücher.test` → `xn--bcher-kva.test`,
 *   RFC 5890 §2.3.2.1), so a UTF-8 domain (RFC 6531) and its ASCII form are the same domain;
 * - local part: unquoted (RFC 5321 §4.1.2: `"alice"` and `alice` are the same mailbox), Unicode
 *   NFC, lower-cased. RFC 5321 §2.4 lets the receiving host decide whether local parts are
 *   case-sensitive; Pochta's user ids are lower-case, so they are not.
 */
import { domainToASCII, domainToUnicode } from 'node:url';

export interface ParsedAddress {
  /** The local part as sent, unquoted: `Alice+News`. */
  readonly local: string;
  /** The canonical domain (see above); '' for an address without one (`Postmaster`, RFC 5321 §4.5.1). */
  readonly domain: string;
}

export interface TaggedLocal {
  /** The local part without the tag, canonical (lower-case): `alice`. */
  readonly base: string;
  /** What followed the separator, as sent (`News`); undefined when there was no tag. */
  readonly tag?: string;
}

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Canonical form of a domain, or undefined when it is not a usable domain name. Domain literals
 * (`[192.0.2.1]`, RFC 5321 §4.1.3) are kept as written, lower-cased.
 */
export function normalizeDomain(domain: string): string | undefined {
  let d = domain.trim();
  if (d.startsWith('[')) return d.endsWith(']') && d.length > 2 ? d.toLowerCase() : undefined;
  if (d.endsWith('.')) d = d.slice(0, -1);
  if (!d) return undefined;
  // Only non-ASCII names go through IDNA: the WHATWG host parser would also turn "123" into an
  // IPv4 address, which a mail domain must never become.
   
  if (/[^\x00-\x7f]/.test(d)) d = domainToASCII(d.normalize('NFC'));
  d = d.toLowerCase();
  if (!d || d.length > 253) return undefined;
  return d.split('.').every((label) => LDH_LABEL.test(label)) ? d : undefined;
}

/** The UTF-8 (U-label) form of a canonical domain; the same string when it has no A-labels. */
export function unicodeDomain(domain: string): string {
  if (domain.startsWith('[') || !domain.includes('xn--')) return domain;
  return domainToUnicode(domain) || domain;
}

function unquote(local: string): string | undefined {
  if (!local.startsWith('"')) return local.includes('"') ? undefined : local;
  if (local.length < 2 || !local.endsWith('"')) return undefined;
  let out = '';
  for (let i = 1; i < local.length - 1; i++) {
    const c = local[i];
    if (c === '\\') {
      // RFC 5321 §4.1.2 quoted-pairSMTP: a backslash and the character it escapes.
      if (i + 1 >= local.length - 1) return undefined;
      out += local[++i];
    } else if (c === '"') {
      return undefined;
    } else {
      out += c;
    }
  }
  return out;
}

/**
 * Split an envelope address into local part and canonical domain. Undefined when it cannot be
 * a mailbox (empty local part, bad domain, unbalanced quotes). An address without `@` has the
 * domain ''. A source route (`@a.test,@b.test:user@c.test`, RFC 5321 §4.1.1.3 / appendix C) is
 * ignored as the RFC requires. Surrounding angle brackets are tolerated.
 */
export function parseAddress(address: string): ParsedAddress | undefined {
  let a = address.trim();
  if (a.startsWith('<') && a.endsWith('>')) a = a.slice(1, -1);
  if (a.startsWith('@')) {
    const colon = a.indexOf(':');
    if (colon < 0) return undefined;
    a = a.slice(colon + 1);
  }
  // The domain is after the last "@": a quoted local part may hold "@", a domain never does.
  const at = a.lastIndexOf('@');
  const rawLocal = at < 0 ? a : a.slice(0, at);
  const local = unquote(rawLocal);
  if (!local || /[\r\n\0]/.test(local)) return undefined;
  if (at < 0) return { local, domain: '' };
  const domain = normalizeDomain(a.slice(at + 1));
  return domain ? { local, domain } : undefined;
}

/** Canonical form of a local part (or part of one): NFC, lower-case. */
export function normalizeLocal(local: string): string {
  return local.normalize('NFC').toLowerCase();
}

/**
 * Split the tag off a local part (`alice+news` → `alice`, `news`): subaddressing as in RFC 5233
 * §1, by Postfix's `recipient_delimiter` rules: the first of any of the `separators` characters
 * splits; a local part that starts with a separator has no tag. '' disables tags.
 */
export function splitTag(local: string, separators: string): TaggedLocal {
  if (separators) {
    for (let i = 1; i < local.length; i++) {
      if (separators.includes(local[i])) return { base: normalizeLocal(local.slice(0, i)), tag: local.slice(i + 1) };
    }
  }
  return { base: normalizeLocal(local) };
}

/** `local@domain` in canonical form: the key user ids and alias maps are compared by. */
export function canonicalAddress(local: string, domain: string): string {
  return domain ? `${normalizeLocal(local)}@${domain}` : normalizeLocal(local);
}
