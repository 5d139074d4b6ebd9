import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadForCli, type GlobalOpts } from './load-for-cli.ts';

export function configCommands(program: Command, globals: () => GlobalOpts): void {
  const config = program.command('config').description('Validate or show the configuration');
  config.command('check')
    .description('Validate the config file and every plugin section; exit 1 naming each bad key')
    .action(async () => {
      const { loaded, plugins } = await loadForCli(globals());
      const enabled = plugins.filter((p) => p.enabled).map((p) => p.name);
      console.log(`ok: ${loaded.source}`);
      console.log(`plugins: ${enabled.join(', ') || '(none)'}`);
      for (const o of loaded.envOverrides) console.log(`env override: ${o.variable} -> ${o.path.join('.')}`);
    });
  config.command('print')
    .description('Print the resolved config (defaults filled in, environment applied) as YAML')
    .option('--json', 'print JSON instead')
    .action(async (o: { json?: boolean }) => {
      const { loaded, plugins } = await loadForCli(globals());
      const resolved = {
        ...loaded.config,
        dataDir: loaded.dataDir,
        plugins: Object.fromEntries(plugins.map((p) => [p.name, { enabled: p.enabled, timeoutMs: p.timeoutMs, ...(p.origin !== 'built-in' ? { module: p.origin } : {}), ...p.config }])),
      };
      process.stdout.write(o.json ? JSON.stringify(resolved, null, 2) + '\n' : `# resolved from ${loaded.source}\n${stringify(resolved)}`);
    });
}
