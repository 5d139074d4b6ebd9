import type { Command } from 'commander';
import { createResolver } from '../dns.ts';
import { checkBlacklists, formatTable, pickAddresses } from './doctor-blacklists.ts';
import { loadForCli, type GlobalOpts } from './load-for-cli.ts';

/** `pochta doctor …`: checks of this server's standing in the world (block lists first). */
export function doctorCommand(program: Command, globals: () => GlobalOpts): void {
  const doctor = program.command('doctor').description('Check this server\'s setup against the outside world');

  doctor.command('blacklists')
    .description('Check whether this server\'s sending addresses are on the block lists configured in plugins.dnsbl (exit code 1 when listed)')
    .option('--ip <address>', 'an address to check (repeatable); default: plugins.dnsbl.outboundAddresses, else the host\'s interface addresses',
      (v: string, prev: string[]) => [...prev, v], [] as string[])
    .action(async (o: { ip: string[] }) => {
      const { loaded, plugins } = await loadForCli(globals());
      const dnsbl = plugins.find((p) => p.name === 'dnsbl');
      const zones = (dnsbl?.config as { zones?: unknown[] } | undefined)?.zones ?? [];
      if (!dnsbl || !zones.length) {
        console.error('no block lists configured: add zones under plugins.dnsbl.zones');
        process.exitCode = 2;
        return;
      }
      let addresses: string[];
      try {
        addresses = pickAddresses(o.ip, dnsbl.config);
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
      const dns = createResolver({ ...loaded.config.dns });
      const rows = await checkBlacklists(dns, dnsbl.config, addresses);
      console.log(formatTable(rows));
      const listed = rows.filter((r) => r.status === 'listed');
      const unknown = rows.filter((r) => r.status !== 'listed' && r.status !== 'clear');
      console.log('');
      console.log(listed.length
        ? `${listed.length} listing${listed.length > 1 ? 's' : ''} found: ask each list for removal after fixing the cause`
        : `not listed on ${zones.length} list${zones.length > 1 ? 's' : ''}${unknown.length ? ` (${unknown.length} lookup${unknown.length > 1 ? 's' : ''} gave no answer)` : ''}`);
      if (listed.length) process.exitCode = 1;
    });
}
