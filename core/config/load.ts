import path from 'node:path';
import { hostname } from 'node:os';
import { cosmiconfig, getDefaultSearchPlaces } from 'cosmiconfig';
import { TypeScriptLoader } from 'cosmiconfig-typescript-loader';
import { EMBEDDED_DEFAULT } from './defaults.ts';
import { applyEnvOverrides, type EnvOverride } from './env.ts';
import { ConfigError, formatIssues } from './errors.ts';
import { RootSchema, type RootConfig } from './schema.ts';

export interface LoadedConfig {
  config: RootConfig;
  /** The file it came from, or 'embedded default'. */
  source: string;
  /** Directory relative paths in the file are taken from. */
  baseDir: string;
  /** dataDir, absolute. */
  dataDir: string;
  envOverrides: EnvOverride[];
}

export interface LoadOptions {
  /** An explicit file (`--config`); otherwise searched from `cwd`. */
  file?: string;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Use this tree instead of reading a file (tests, embedding). */
  tree?: Record<string, unknown>;
}

function explorer(stopDir?: string) {
  return cosmiconfig('pochta', {
    searchPlaces: [...getDefaultSearchPlaces('pochta'), 'pochta.config.yaml', 'pochta.config.yml', 'pochta.config.json'],
    loaders: { '.ts': TypeScriptLoader() },
    cache: false,
    ...(stopDir ? { stopDir } : {}),
  });
}

/** Find, read, override from the environment and validate the root config. Plugin sections are validated by the plugin host. */
export async function loadConfig(opts: LoadOptions = {}): Promise<LoadedConfig> {
  const cwd = opts.cwd ?? process.cwd();
  let tree: Record<string, unknown>;
  let source: string;
  let baseDir = cwd;
  if (opts.tree) {
    tree = opts.tree;
    source = 'inline';
  } else {
    let found: { config: unknown; filepath: string; isEmpty?: boolean } | null;
    try {
      found = opts.file ? await explorer().load(path.resolve(cwd, opts.file)) : await explorer().search(cwd);
    } catch (err) {
      throw new ConfigError([`cannot read config: ${(err as Error).message}`], opts.file);
    }
    if (found) {
      if (found.isEmpty || found.config === undefined || found.config === null) tree = {};
      else if (typeof found.config !== 'object' || Array.isArray(found.config)) throw new ConfigError(['(root): expected an object'], found.filepath);
      else tree = found.config as Record<string, unknown>;
      source = found.filepath;
      baseDir = path.dirname(found.filepath);
    } else {
      tree = structuredClone(EMBEDDED_DEFAULT);
      source = 'embedded default';
    }
  }
  const { tree: overridden, applied } = applyEnvOverrides(tree, opts.env ?? process.env, RootSchema.parse({}));
  const parsed = RootSchema.safeParse(overridden);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error), source);
  const config = parsed.data;
  if (!config.hostname) config.hostname = hostname();
  return { config, source, baseDir, dataDir: path.resolve(baseDir, config.dataDir), envOverrides: applied };
}
