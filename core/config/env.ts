/**
 * Environment overrides for single keys: POCHTA__<PATH> where the path's segments are separated
 * by double underscores and matched to config keys ignoring case, `-` and `_`.
 *   POCHTA__HOSTNAME=mx.example.com
 *   POCHTA__SMTP__LISTENERS__MX__PORT=25
 *   POCHTA__PLUGINS__LOCAL_DOMAINS__DOMAINS='["example.com"]'
 * Values are parsed as JSON when they parse (numbers, booleans, arrays), else taken as strings.
 */
const PREFIX = 'POCHTA__';

const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');

function parseValue(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

export interface EnvOverride {
  variable: string;
  path: string[];
}

/** Apply overrides to a plain config tree (mutates a copy) and report what was applied. */
export function applyEnvOverrides(tree: Record<string, unknown>, env: NodeJS.ProcessEnv, known: Record<string, unknown> = {}): { tree: Record<string, unknown>; applied: EnvOverride[] } {
  const out = structuredClone(tree);
  const applied: EnvOverride[] = [];
  const vars = Object.keys(env).filter((k) => k.startsWith(PREFIX)).sort();
  for (const variable of vars) {
    const segments = variable.slice(PREFIX.length).split('__').filter(Boolean);
    if (!segments.length) continue;
    let node: Record<string, unknown> = out;
    let knownNode: Record<string, unknown> | undefined = known;
    const path: string[] = [];
    segments.forEach((seg, i) => {
      // Reuse the key as spelled in the file (or the defaults) when one matches.
      const candidates = [...Object.keys(node), ...Object.keys(knownNode ?? {})];
      const key = candidates.find((k) => norm(k) === norm(seg)) ?? seg.toLowerCase().replace(/_/g, '-');
      path.push(key);
      if (i === segments.length - 1) {
        node[key] = parseValue(env[variable] ?? '');
      } else {
        const kn: unknown = knownNode?.[key];
        if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) {
          // Start from the default subtree, so overriding one key keeps its siblings' defaults.
          node[key] = typeof kn === 'object' && kn !== null && !Array.isArray(kn) ? structuredClone(kn) : {};
        }
        node = node[key] as Record<string, unknown>;
        knownNode = typeof kn === 'object' && kn !== null ? (kn as Record<string, unknown>) : undefined;
      }
    });
    applied.push({ variable, path });
  }
  return { tree: out, applied };
}
