import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { GlobalOpts } from './load-for-cli.ts';

/** `pochta reload`: validate the config here, then SIGHUP the running server (pid file in the data dir). */
export function reloadCommand(program: Command, globals: () => GlobalOpts): void {
  program.command('reload')
    .description('Validate the config, then tell the running server to reload it (SIGHUP)')
    .action(async () => {
      const o = globals();
      const loaded = await loadConfig(o.config ? { file: o.config } : {});
      const { resolvePlugins } = await import('../plugin-loader.ts');
      await resolvePlugins(loaded.config.plugins, loaded.baseDir);
      const pidFile = path.join(loaded.dataDir, 'pochta.pid');
      const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
      if (!pid) {
        console.error(`no running server found (${pidFile} missing)`);
        process.exitCode = 1;
        return;
      }
      process.kill(pid, 'SIGHUP');
      console.log(`config valid; sent SIGHUP to ${pid}`);
    });
}
