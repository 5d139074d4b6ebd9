import { canonicalAddress, parseAddress, splitTag } from '../local-domains/address.ts';

/** Who may send as what: the user's own address (any subaddress of it) and the addresses granted in config. */
export interface Ownership {
  readonly separators: string;
  /** Canonical user id → canonical addresses and "@domain" entries. */
  readonly granted: ReadonlyMap<string, ReadonlySet<string>>;
}

function canonical(address: string, separators: string): { full: string; base: string; domain: string } | undefined {
  const p = parseAddress(address);
  if (!p || !p.domain) return undefined;
  return { full: canonicalAddress(p.local, p.domain), base: canonicalAddress(splitTag(p.local, separators).base, p.domain), domain: p.domain };
}

export function ownership(owners: Readonly<Record<string, readonly string[]>>, separators: string): Ownership {
  const granted = new Map<string, Set<string>>();
  for (const [user, list] of Object.entries(owners)) {
    const id = canonical(user, '')?.full ?? user.toLowerCase();
    const set = granted.get(id) ?? new Set<string>();
    for (const a of list) {
      if (a.startsWith('@')) set.add('@' + (parseAddress(`x${a}`)?.domain ?? a.slice(1).toLowerCase()));
      else set.add(canonical(a, '')?.full ?? a.toLowerCase());
    }
    granted.set(id, set);
  }
  return { separators, granted };
}

/** True when the authenticated `user` may use `address` as a sender. The null sender is always allowed. */
export function owns(o: Ownership, user: string, address: string): boolean {
  if (address === '') return true;
  const a = canonical(address, o.separators);
  if (!a) return false;
  const id = canonical(user, '')?.full ?? user.toLowerCase();
  if (a.base === id || a.full === id) return true;
  const g = o.granted.get(id);
  return Boolean(g && (g.has(a.full) || g.has(a.base) || g.has('@' + a.domain)));
}
