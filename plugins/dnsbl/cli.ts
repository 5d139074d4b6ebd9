/**
 * `pochta doctor blacklists`: the dnsbl plugin's contribution to `pochta doctor` (the lookup code is
 * the plugin's own, so what the doctor says is what a receiver using those lists would see).
 */
import type { Command } from 'commander';
import type { CliParents, PluginCliContext } from '../../core/plugin.ts';
import type { DnsblConfig } from './config.ts';
import { checkBlacklists, formatTable, pickAddresses } from './doctor.ts';

export function registerDnsblCli(_program: Command, ctx: () => Promise<PluginCliContext<DnsblConfig>>, parents: CliParents): void {
  parents.doctor.command('blacklists')
    .description('Check whether this server\'s sending addresses are on the block lists configured in plugins.dnsbl (exit code 1 when listed)')
    .option('--ip <address>', 'an address to check (repeatable); default: plugins.dnsbl.outboundAddresses, else the host\'s interface addresses',
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (o: { ip: string[] }) => {
      const c = await ctx();
      if (!c.config.zones.length) {
        console.error('no block lists configured: add zones under plugins.dnsbl.zones');
        process.exitCode = 2;
        return;
      }
      let addresses: string[];
      try {
        addresses = pickAddresses(o.ip, c.config);
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 2;
        return;
      }
      if (!addresses.length) {
        console.error('no addresses to check: give --ip or set plugins.dnsbl.outboundAddresses');
        process.exitCode = 2;
        return;
      }
      const rows = await checkBlacklists(c.dns(), c.config, addresses);
      console.log(formatTable(rows));
      const zones = c.config.zones.length;
      const listed = rows.filter((r) => r.status === 'listed');
      const unknown = rows.filter((r) => r.status !== 'listed' && r.status !== 'clear');
      console.log('');
      console.log(listed.length
        ? `${listed.length} listing${listed.length > 1 ? 's' : ''} found: ask each list for removal after fixing the cause`
        : `not listed on ${zones} list${zones > 1 ? 's' : ''}${unknown.length ? ` (${unknown.length} lookup${unknown.length > 1 ? 's' : ''} gave no answer)` : ''}`);
      if (listed.length) process.exitCode = 1;
    });
}
