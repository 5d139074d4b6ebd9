import { existsSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { ConfigError, formatIssues } from './config/errors.ts';
import { PluginEntryBase, RESERVED_PLUGIN_KEYS } from './config/schema.ts';
import type { PluginDefinition } from './plugin.ts';

/** A plugin entry from config, with its module loaded and its config validated. */
export interface ResolvedPlugin {
  name: string;
  enabled: boolean;
  timeoutMs: number;
  /** Where the module came from: 'built-in', a package name or a path. */
  origin: string;
  definition: PluginDefinition;
  config: Readonly<Record<string, unknown>>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** Built-ins sit in ../plugins/<name>/index.ts (source) or index.js (compiled to dist/). */
const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
export const BUILTIN_DIR = path.resolve(here, '..', 'plugins');

function builtinPath(name: string): string | undefined {
  const p = path.join(BUILTIN_DIR, name, `index${ext}`);
  return existsSync(p) ? p : undefined;
}

async function importFrom(spec: string, baseDir: string): Promise<unknown> {
  if (spec.startsWith('.') || path.isAbsolute(spec)) {
    return import(pathToFileURL(path.resolve(baseDir, spec)).href);
  }
  // A package name: resolve it from the config's directory first, then from Pochta's own.
  try {
    const { createRequire } = await import('node:module');
    const resolved = createRequire(path.join(baseDir, 'package.json')).resolve(spec);
    return import(pathToFileURL(resolved).href);
  } catch {
    return import(spec);
  }
}

function asDefinition(mod: unknown): PluginDefinition | undefined {
  const d = (mod as { default?: unknown })?.default ?? mod;
  if (d && typeof d === 'object' && typeof (d as PluginDefinition).register === 'function' && typeof (d as PluginDefinition).name === 'string') {
    return d as PluginDefinition;
  }
  return undefined;
}

/** Load one module for a plugin entry. */
async function loadModule(name: string, moduleSpec: string | undefined, baseDir: string): Promise<{ def: PluginDefinition; origin: string }> {
  // Where the module comes from: an explicit `module`, a built-in folder, or the npm convention.
  const builtin = moduleSpec ? undefined : builtinPath(name);
  const a: { spec: string; origin: string; load: () => Promise<unknown> } = moduleSpec
    ? { spec: moduleSpec, origin: moduleSpec, load: () => importFrom(moduleSpec, baseDir) }
    : builtin
      ? { spec: builtin, origin: 'built-in', load: () => import(pathToFileURL(builtin).href) }
      : { spec: `pochta-plugin-${name}`, origin: `pochta-plugin-${name}`, load: () => importFrom(`pochta-plugin-${name}`, baseDir) };
  let mod: unknown;
  try {
    mod = await a.load();
  } catch (err) {
    const code = (err as { code?: string }).code;
    const message = (err as Error).message ?? String(err);
    // "Cannot find module '<x>' imported from <y>": only when <x> is the plugin itself is the
    // plugin missing; otherwise the plugin is there and one of *its* imports is.
    const self = a.origin === 'built-in' || a.spec.startsWith('.') || path.isAbsolute(a.spec) ? path.resolve(baseDir, a.spec) : a.spec;
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1];
    const missingSelf = (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && (missing === undefined || missing === self || missing === a.spec);
    const why = missingSelf
      ? (a.origin.startsWith('pochta-plugin-') ? 'not found (not a built-in plugin; install it or set `module`)' : 'not found')
      : message;
    throw new ConfigError([`plugins.${name}: cannot load ${a.origin}: ${why}`]);
  }
  const def = asDefinition(mod);
  if (!def) throw new ConfigError([`plugins.${name}: ${a.origin} does not export a plugin (use definePlugin as the default export)`]);
  if (def.name !== name) throw new ConfigError([`plugins.${name}: the module defines plugin "${def.name}"; the config key must match`]);
  return { def, origin: a.origin };
}

/**
 * Resolve the `plugins` section: load every module (disabled ones too, so a typo is caught
 * before it is switched on), validate each section with the plugin's own schema, and check
 * dependencies against the enabled, earlier plugins. Throws one ConfigError listing every problem.
 */
export async function resolvePlugins(section: Record<string, Record<string, unknown>>, baseDir: string): Promise<ResolvedPlugin[]> {
  const problems: string[] = [];
  const out: ResolvedPlugin[] = [];
  for (const [name, entry] of Object.entries(section)) {
    const base = PluginEntryBase.safeParse(Object.fromEntries(Object.entries(entry ?? {}).filter(([k]) => RESERVED_PLUGIN_KEYS.has(k))));
    if (!base.success) {
      problems.push(...formatIssues(base.error, ['plugins', name]));
      continue;
    }
    let loaded: { def: PluginDefinition; origin: string };
    try {
      loaded = await loadModule(name, base.data.module, baseDir);
    } catch (err) {
      problems.push(...(err instanceof ConfigError ? err.problems : [`plugins.${name}: ${(err as Error).message}`]));
      continue;
    }
    const own = Object.fromEntries(Object.entries(entry ?? {}).filter(([k]) => !RESERVED_PLUGIN_KEYS.has(k)));
    // Unknown keys are errors even when a plugin's schema is a plain (stripping) object.
    const shape = (loaded.def.config as { shape?: Record<string, unknown> }).shape;
    if (shape) {
      const unknown = Object.keys(own).filter((k) => !(k in shape));
      if (unknown.length) {
        problems.push(`plugins.${name}: unknown key${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => JSON.stringify(k)).join(', ')}`);
        continue;
      }
    }
    const parsed = loaded.def.config.safeParse(own);
    if (!parsed.success) {
      problems.push(...formatIssues(parsed.error, ['plugins', name]));
      continue;
    }
    out.push({
      name,
      enabled: base.data.enabled,
      timeoutMs: base.data.timeoutMs,
      origin: loaded.origin,
      definition: loaded.def,
      config: Object.freeze(parsed.data as Record<string, unknown>),
    });
  }
  const enabledBefore = new Set<string>();
  for (const p of out) {
    if (!p.enabled) continue;
    for (const dep of p.definition.dependencies ?? []) {
      if (!enabledBefore.has(dep)) {
        const exists = out.find((o) => o.name === dep);
        problems.push(`plugins.${p.name}: depends on "${dep}", which ${!exists ? 'is not configured' : !exists.enabled ? 'is disabled' : 'must come earlier in the list'}`);
      }
    }
    enabledBefore.add(p.name);
  }
  if (problems.length) throw new ConfigError(problems);
  return out;
}
