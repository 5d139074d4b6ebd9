/**
 * The RCPT decision for local domains, pure apart from the injected directory: is the recipient's
 * domain local, and if so, which user is it?
 */
import type { UserDirectory, UserRecord } from '../../core/auth/user-directory.ts';
import { normalizeDomain, normalizeLocal, parseAddress, splitTag, unicodeDomain, type ParsedAddress } from './address.ts';

export type LocalDecision =
  /** Not a local domain (or not a mailbox at all): no opinion. */
  | { kind: 'not-local' }
  /** A local user; `tag` is the subaddress, kept for folder delivery later. */
  | { kind: 'user'; user: string; tag?: string }
  /** A local domain, but nobody by that name: 550 5.1.1. */
  | { kind: 'unknown' };

/** Where the local domain list comes from: a fixed set (config) or a function asked each time. */
export type DomainSource = ReadonlySet<string> | (() => Promise<Iterable<string>>);

/** A fixed set of canonical domains from configured names (already validated). */
export function domainSet(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const n of names) {
    const d = normalizeDomain(n);
    if (d) out.add(d);
  }
  return out;
}

export async function isLocalDomain(source: DomainSource, domain: string): Promise<boolean> {
  if (!domain) return false;
  if (typeof source !== 'function') return source.has(domain);
  for (const d of await source()) if (normalizeDomain(d) === domain) return true;
  return false;
}

export interface FoundUser {
  readonly user: UserRecord;
  /** True when the user was found only after removing the tag. */
  readonly untagged: boolean;
}

/**
 * The directory record for an address, most specific first: the whole local part (a user may
 * really be called `a+b`), then without its tag; each with the canonical A-label domain, then
 * its UTF-8 form when different (a directory may list users either way). Disabled users count
 * as absent: mail for them is refused like mail for a stranger, which tells a prober nothing.
 */
export async function findUser(directory: Pick<UserDirectory, 'lookup'>, addr: ParsedAddress, separators: string): Promise<FoundUser | undefined> {
  const whole = normalizeLocal(addr.local);
  const { base } = splitTag(addr.local, separators);
  const domains = [...new Set([addr.domain, unicodeDomain(addr.domain)])];
  const tried = new Set<string>();
  for (const [local, untagged] of [[whole, false], [base, true]] as const) {
    for (const d of domains) {
      const key = d ? `${local}@${d}` : local;
      if (tried.has(key)) continue;
      tried.add(key);
      const u = await directory.lookup(key);
      if (u && !u.disabled) return { user: u, untagged };
    }
  }
  return undefined;
}

export async function decideRecipient(
  address: string,
  deps: { separators: string; domains: DomainSource; directory: Pick<UserDirectory, 'lookup'> },
): Promise<LocalDecision> {
  const addr = parseAddress(address);
  if (!addr || !(await isLocalDomain(deps.domains, addr.domain))) return { kind: 'not-local' };
  const found = await findUser(deps.directory, addr, deps.separators);
  if (!found) return { kind: 'unknown' };
  const { tag } = splitTag(addr.local, deps.separators);
  return found.untagged && tag !== undefined ? { kind: 'user', user: found.user.id, tag } : { kind: 'user', user: found.user.id };
}
