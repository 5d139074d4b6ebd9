import type { Command } from 'commander';
import { systemClock } from '../clock.ts';
import { createResolver } from '../dns.ts';
import { listHooks } from '../hooks.ts';
import { MemoryKv } from '../kv/memory.ts';
import { createLogger } from '../log.ts';
import { Metrics } from '../metrics.ts';
import { Runtime } from '../runtime.ts';
import { loadForCli, type GlobalOpts } from './load-for-cli.ts';

/** `pochta hooks`: which plugin taps which hook, in run order (plugins are registered, no listener opens). */
export function hooksCommand(program: Command, globals: () => GlobalOpts): void {
  program.command('hooks')
    .description('Show which plugin taps which hook, in run order')
    .option('--all', 'also list hooks nobody taps')
    .action(async (o: { all?: boolean }) => {
      const { loaded, plugins } = await loadForCli(globals());
      const kv = new MemoryKv(systemClock);
      const rt = new Runtime(plugins, {
        log: createLogger({ level: 'silent' }), metrics: new Metrics(), clock: systemClock, kv,
        dns: createResolver(), hostname: loaded.config.hostname, dataDir: loaded.dataDir,
      });
      try {
        await rt.start();
        for (const h of listHooks(rt.hooks)) {
          const taps = h.taps();
          if (!taps.length && !o.all) continue;
          console.log(`${h.name}  — ${h.doc}`);
          if (!taps.length) console.log('    (no taps)');
          taps.forEach((t, i) => console.log(`    ${i + 1}. ${t.plugin}${t.stage ? `  (stage ${t.stage})` : ''}`));
        }
        const disabled = plugins.filter((p) => !p.enabled).map((p) => p.name);
        if (disabled.length) console.log(`disabled: ${disabled.join(', ')}`);
        for (const s of rt.services.list()) console.log(`service ${s.name}: provided by ${s.provider}`);
      } finally {
        await rt.dispose();
        await kv.close();
      }
    });
}
