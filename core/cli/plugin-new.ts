import type { Command } from 'commander';
import { cp, readdir, readFile, writeFile, access } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TEMPLATE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'plugin-template');
const PLACEHOLDER = /pochta-plugin-template|plugin-template/g;

/** `pochta plugin new NAME`: copy plugin-template/, renamed. */
export function pluginCommands(program: Command): void {
  const plugin = program.command('plugin').description('Work on plugins');
  plugin.command('new')
    .description('Create a new plugin from plugin-template/ (it builds and its test passes as is)')
    .argument('<name>', 'plugin name: lower-case words with dashes')
    .option('--dir <dir>', 'parent directory', '.')
    .action(async (name: string, o: { dir: string }) => {
      if (!/^[a-z][a-z0-9-]*$/.test(name)) {
        console.error('plugin names are lower-case words with dashes, e.g. my-check');
        process.exitCode = 1;
        return;
      }
      const dest = path.resolve(o.dir, `pochta-plugin-${name}`);
      if (await access(dest).then(() => true, () => false)) {
        console.error(`${dest} exists`);
        process.exitCode = 1;
        return;
      }
      await cp(TEMPLATE, dest, { recursive: true, filter: (src) => !/node_modules|\/dist(\/|$)/.test(src) });
      for (const f of await readdir(dest, { recursive: true })) {
        const p = path.join(dest, f);
        if (!/\.(ts|json|md)$/.test(p)) continue;
        const text = await readFile(p, 'utf8');
        await writeFile(p, text.replace(PLACEHOLDER, (m) => (m.startsWith('pochta-') ? `pochta-plugin-${name}` : name)));
      }
      console.log(`created ${dest}\nnext: cd ${path.relative(process.cwd(), dest) || '.'} && npm install && npm test`);
    });
}
