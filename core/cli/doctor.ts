import type { Command } from 'commander';

/**
 * `pochta doctor …`: checks of this server's standing in the world. The checks themselves come from
 * plugins (their `cli` gets this command as `parents.doctor`: dnsbl adds `blacklists`).
 */
export function doctorCommand(program: Command): Command {
  return program.command('doctor').description('Check this server\'s setup against the outside world');
}

/**
 * After the plugins had their turn: a check whose plugin is not enabled still answers, saying what
 * to enable, instead of commander's bare "unknown command".
 */
export function doctorFallbacks(doctor: Command): void {
  if (doctor.commands.some((c) => c.name() === 'blacklists')) return;
  doctor.command('blacklists')
    .description('Check this server\'s addresses against DNS block lists (needs the dnsbl plugin)')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(() => {
      console.error('no block lists configured: enable the dnsbl plugin and add zones under plugins.dnsbl.zones');
      process.exitCode = 2;
    });
}
