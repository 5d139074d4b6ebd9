import path from 'node:path';
import { Command } from 'commander';
import { ConfigError } from '../config/errors.ts';
import { configCommands } from './config-cmds.ts';
import { hooksCommand } from './hooks-cmd.ts';
import { doctorCommand, doctorFallbacks } from './doctor.ts';
import { createResolver } from '../dns.ts';
import { initCommand } from './init.ts';
import { loadForCli, peekConfigArg, type GlobalOpts } from './load-for-cli.ts';
import { pluginCommands } from './plugin-new.ts';
import { startCommand } from './start.ts';
import { reloadCommand } from './reload.ts';
import { dkimCommand } from './dkim.ts';
import { queueCommand } from './queue.ts';

/** The `pochta` command. Plugins add their own subcommands (auth-file adds `user`). */
export async function main(argv: string[]): Promise<void> {
  const program = new Command('pochta')
    .description('A plugin-based mail server: SMTP, submission, IMAP and POP3 driven through typed hooks')
    .option('-c, --config <file>', 'config file (default: searched from the current directory; none = embedded default)')
    .showHelpAfterError();
  const globals = () => program.opts<GlobalOpts>();

  program.command('start').description('Start the server (SIGHUP reloads the config, SIGTERM stops)').action(() => startCommand(globals()));
  reloadCommand(program, globals);
  queueCommand(program, globals);
  initCommand(program);
  configCommands(program, globals);
  hooksCommand(program, globals);
  const doctor = doctorCommand(program);
  pluginCommands(program);
  dkimCommand(program, globals);

  // Plugin commands: register what the configured plugins contribute. A broken config must not
  // hide the core commands (config check is how one finds out what is wrong).
  try {
    const configArg = peekConfigArg(argv.slice(2));
    const { loaded, plugins } = await loadForCli(configArg ? { config: configArg } : {});
    for (const p of plugins) {
      if (!p.definition.cli) continue;
      p.definition.cli(program, async () => ({
        name: p.name,
        config: p.config,
        server: { hostname: loaded.config.hostname, dataDir: loaded.dataDir },
        resolvePath: (x: string) => path.resolve(loaded.dataDir, x),
        dns: () => createResolver({ ...loaded.config.dns }),
      }), { doctor });
    }
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const wanted = argv[2];
    if (wanted && !program.commands.some((c) => c.name() === wanted) && !wanted.startsWith('-')) {
      console.error(err.message);
      process.exitCode = 1;
      return;
    }
  }

  doctorFallbacks(doctor);

  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exitCode = 1;
      return;
    }
    throw err;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/cli/main.ts') || process.argv[1]?.endsWith('/cli/main.js')) {
  main(process.argv).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
