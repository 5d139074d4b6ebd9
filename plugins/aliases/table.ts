/**
 * The alias table: the config's and the file's maps, merged and keyed canonically. Pure.
 */
import { parse as parseYaml } from 'yaml';
import { formatIssues } from '../../core/config/errors.ts';
import { canonicalAddress, normalizeDomain, parseAddress } from '../local-domains/address.ts';
import { aliasMap, type AliasMapInput } from './config.ts';

export interface AliasTable {
  /** Canonical alias address → targets as written. */
  readonly aliases: ReadonlyMap<string, readonly string[]>;
  /** Canonical domain → catch-all targets as written. */
  readonly catchAll: ReadonlyMap<string, readonly string[]>;
  /** Every domain named by an alias or a catch-all: local, in the aliases plugin's view. */
  readonly domains: ReadonlySet<string>;
}

const list = (t: string | readonly string[]): readonly string[] => (typeof t === 'string' ? [t] : t);

/**
 * Merge the maps. `inline` (the config) wins over `file` for the same alias; every such clash is
 * returned so the caller can log it. The maps are already validated (addresses, domains).
 */
export function buildTable(input: {
  inline: Readonly<AliasMapInput>;
  file?: Readonly<AliasMapInput>;
  catchAll: Readonly<Record<string, string | readonly string[]>>;
}): { table: AliasTable; overridden: string[] } {
  const aliases = new Map<string, readonly string[]>();
  const domains = new Set<string>();
  const overridden: string[] = [];
  const add = (map: Readonly<AliasMapInput>, fromFile: boolean) => {
    for (const [key, targets] of Object.entries(map)) {
      const a = parseAddress(key);
      if (!a?.domain) continue;
      const canon = canonicalAddress(a.local, a.domain);
      if (!fromFile && aliases.has(canon)) overridden.push(canon);
      aliases.set(canon, list(targets));
      domains.add(a.domain);
    }
  };
  if (input.file) add(input.file, true);
  add(input.inline, false);
  const catchAll = new Map<string, readonly string[]>();
  for (const [domain, targets] of Object.entries(input.catchAll)) {
    const d = normalizeDomain(domain);
    if (!d) continue;
    catchAll.set(d, list(targets));
    domains.add(d);
  }
  return { table: { aliases, catchAll, domains }, overridden };
}

/** Parse an alias file (YAML, of which JSON is a subset). Throws one Error listing every problem. */
export function parseAliasFile(text: string): AliasMapInput {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error('expected a mapping of alias address to target(s)');
  const r = aliasMap.safeParse(doc);
  if (!r.success) throw new Error(formatIssues(r.error).join('; '));
  return r.data;
}
