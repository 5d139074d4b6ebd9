import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { resolvePlugins, type ResolvedPlugin } from '../plugin-loader.ts';

export interface GlobalOpts {
  config?: string;
}

export async function loadForCli(opts: GlobalOpts): Promise<{ loaded: LoadedConfig; plugins: ResolvedPlugin[] }> {
  const loaded = await loadConfig(opts.config ? { file: opts.config } : {});
  const plugins = await resolvePlugins(loaded.config.plugins, loaded.baseDir);
  return { loaded, plugins };
}

/** Find `--config FILE` / `-c FILE` before commander parses, so plugin commands can be registered. */
export function peekConfigArg(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--config' || a === '-c') return argv[i + 1];
    if (a.startsWith('--config=')) return a.slice('--config='.length);
  }
  return undefined;
}
