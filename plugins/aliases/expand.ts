/**
 * Alias resolution for one recipient: pure apart from the injected lookups. Order of precedence
 * for an address in a local domain:
 *
 *   1. an alias (the whole local part, then without its tag) → its targets, expanded recursively;
 *   2. a user → no opinion here (local-domains accepts it);
 *   3. postmaster@ / abuse@ → the postmaster target (RFC 5321 §4.5.1, RFC 2142 §4 and §5);
 *   4. the domain's catch-all → its targets;
 *   5. nothing, in a domain only the alias table names → unknown (550 5.1.1), since no later
 *      plugin knows that domain; in a directory domain → no opinion (local-domains refuses it).
 *
 * Expansion: a target outside the local domains is forwarded (a remote target); an alias is
 * expanded again; a user becomes a local target. An address that turns up inside its own
 * expansion is final: delivered to its mailbox when it has one (`alice: [alice, alice@else.test]`
 * keeps a copy), otherwise a loop. Loops, nesting deeper than maxDepth and more than maxTargets
 * targets are configuration errors: the recipient is tempfailed so no mail is lost while the
 * admin fixes the map. A target that names nobody (a user since removed) is skipped and
 * reported; when nothing is left the recipient is unknown.
 */
import type { DeliveryTarget } from '../../core/verdict.ts';
import { canonicalAddress, parseAddress, splitTag, type ParsedAddress } from '../local-domains/address.ts';
import type { AliasTable } from './table.ts';

export interface AliasDeps {
  readonly table: AliasTable;
  readonly separators: string;
  readonly maxDepth: number;
  readonly maxTargets: number;
  /** The configured postmaster address, if any. */
  readonly postmaster?: string;
  /** Canonical domains the user directory has users in. */
  directoryDomains(): Promise<ReadonlySet<string>>;
  /** The canonical user id for an address (tags stripped as needed), if a user has it. */
  findUser(addr: ParsedAddress): Promise<string | undefined>;
  /** The first user the directory lists in `domain`, or at all when `domain` is undefined. */
  firstUser(domain?: string): Promise<string | undefined>;
}

export type ExpandFailure = 'loop' | 'depth' | 'too-many';

export type AliasResult =
  /** Not ours to answer. */
  | { kind: 'pass' }
  | { kind: 'targets'; via: 'alias' | 'postmaster' | 'catch-all'; targets: DeliveryTarget[]; dropped: string[] }
  /** A local domain, but the address leads nowhere: 550 5.1.1. */
  | { kind: 'unknown'; dropped: string[] }
  /** A broken alias map: 451 4.3.0. */
  | { kind: 'error'; failure: ExpandFailure; detail: string };

/** RFC 5321 §4.5.1 (postmaster) and RFC 2142 §2 (abuse): names every mail domain must answer. */
const ROLE_MAILBOXES = new Set(['postmaster', 'abuse']);

class ExpandError extends Error {
  constructor(readonly failure: ExpandFailure, detail: string) {
    super(detail);
  }
}

/** The alias entry for an address: whole local part first, then without its tag. */
function findAlias(table: AliasTable, addr: ParsedAddress, separators: string): { key: string; targets: readonly string[] } | undefined {
  const whole = canonicalAddress(addr.local, addr.domain);
  const untagged = `${splitTag(addr.local, separators).base}@${addr.domain}`;
  for (const key of whole === untagged ? [whole] : [whole, untagged]) {
    const targets = table.aliases.get(key);
    if (targets) return { key, targets };
  }
  return undefined;
}

async function isLocal(deps: AliasDeps, domain: string): Promise<boolean> {
  return deps.table.domains.has(domain) || (await deps.directoryDomains()).has(domain);
}

/**
 * Where postmaster@domain goes when neither an alias nor a user has that name: the configured
 * address, else the domain's catch-all, else the directory's first user in the domain, else its
 * first user at all. Empty when there is nobody.
 */
async function postmasterTargets(deps: AliasDeps, domain: string): Promise<readonly string[]> {
  if (deps.postmaster) return [deps.postmaster];
  const ca = domain ? deps.table.catchAll.get(domain) : undefined;
  if (ca) return ca;
  const first = (domain ? await deps.firstUser(domain) : undefined) ?? (await deps.firstUser());
  return first ? [first] : [];
}

/** Expand `targets` of the alias (or role mailbox) `rootKey`. Throws ExpandError. */
async function expand(deps: AliasDeps, rootKey: string, targets: readonly string[]): Promise<{ targets: DeliveryTarget[]; dropped: string[] }> {
  const out = new Map<string, DeliveryTarget>();
  const dropped: string[] = [];
  const expanded = new Set<string>([rootKey]);
  const path: string[] = [rootKey];

  const add = (key: string, t: DeliveryTarget) => {
    if (out.has(key)) return;
    if (out.size >= deps.maxTargets) throw new ExpandError('too-many', `${rootKey} expands to more than ${deps.maxTargets} targets`);
    out.set(key, t);
  };

  const descend = async (key: string, next: readonly string[]) => {
    // A diamond (two aliases sharing a member) expands the member once.
    if (expanded.has(key)) return;
    if (path.length >= deps.maxDepth) throw new ExpandError('depth', `${[...path, key].join(' → ')} nests deeper than ${deps.maxDepth}`);
    expanded.add(key);
    path.push(key);
    for (const t of next) await visit(t);
    path.pop();
  };

  const visit = async (target: string): Promise<void> => {
    const addr = parseAddress(target);
    if (!addr?.domain) {
      dropped.push(target);
      return;
    }
    if (!(await isLocal(deps, addr.domain))) {
      // Forwarding: the local part is kept as written (RFC 5321 §2.4: only the destination host
      // may interpret it).
      add(`${addr.local}@${addr.domain}`, { kind: 'remote', address: target });
      return;
    }
    const alias = findAlias(deps.table, addr, deps.separators);
    if (alias && !path.includes(alias.key)) return descend(alias.key, alias.targets);
    // Final: a mailbox, or an address that came back round inside its own expansion.
    const user = await deps.findUser(addr);
    if (user) return add(`local:${user}`, { kind: 'local', user });
    if (alias) throw new ExpandError('loop', `${[...path, alias.key].join(' → ')} is a loop`);
    const { base } = splitTag(addr.local, deps.separators);
    if (ROLE_MAILBOXES.has(base)) {
      const key = `${base}@${addr.domain}`;
      if (path.includes(key)) throw new ExpandError('loop', `${[...path, key].join(' → ')} is a loop`);
      const pm = await postmasterTargets(deps, addr.domain);
      if (pm.length) return descend(key, pm);
    }
    dropped.push(target);
  };

  for (const t of targets) await visit(t);
  return { targets: [...out.values()], dropped };
}

async function expanded(deps: AliasDeps, via: 'alias' | 'postmaster' | 'catch-all', rootKey: string, targets: readonly string[]): Promise<AliasResult> {
  try {
    const r = await expand(deps, rootKey, targets);
    return r.targets.length ? { kind: 'targets', via, ...r } : { kind: 'unknown', dropped: r.dropped };
  } catch (err) {
    if (err instanceof ExpandError) return { kind: 'error', failure: err.failure, detail: err.message };
    throw err;
  }
}

/** What the aliases plugin says about one RCPT TO address. */
export async function resolveRecipient(address: string, deps: AliasDeps): Promise<AliasResult> {
  const addr = parseAddress(address);
  if (!addr) return { kind: 'pass' };
  const { base } = splitTag(addr.local, deps.separators);
  if (!addr.domain) {
    // RFC 5321 §4.5.1: "RCPT TO:<Postmaster>" without a domain MUST be accepted.
    if (base !== 'postmaster') return { kind: 'pass' };
    const pm = await postmasterTargets(deps, '');
    return pm.length ? expanded(deps, 'postmaster', 'postmaster', pm) : { kind: 'pass' };
  }
  if (!(await isLocal(deps, addr.domain))) return { kind: 'pass' };
  const alias = findAlias(deps.table, addr, deps.separators);
  if (alias) return expanded(deps, 'alias', alias.key, alias.targets);
  if (await deps.findUser(addr)) return { kind: 'pass' };
  if (ROLE_MAILBOXES.has(base)) {
    const pm = await postmasterTargets(deps, addr.domain);
    if (pm.length) return expanded(deps, 'postmaster', `${base}@${addr.domain}`, pm);
  }
  const ca = deps.table.catchAll.get(addr.domain);
  if (ca) return expanded(deps, 'catch-all', `@${addr.domain}`, ca);
  if (!(await deps.directoryDomains()).has(addr.domain)) return { kind: 'unknown', dropped: [] };
  return { kind: 'pass' };
}
