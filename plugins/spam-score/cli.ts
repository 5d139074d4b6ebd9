/**
 * `pochta spam learn --spam|--ham FILE…`: queue messages for the classifier. The files are copied
 * into the learn directory (written under a temporary name, then renamed, so the server never
 * reads half a file); the running server learns them within learnPollMs, a stopped one at start.
 */
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { PluginCliContext } from '../../core/plugin.ts';
import type { SpamScoreConfig } from './config.ts';

export async function queueForLearning(learnDir: string, label: 'spam' | 'ham', files: readonly string[]): Promise<number> {
  const dir = path.join(learnDir, label);
  await mkdir(dir, { recursive: true });
  let n = 0;
  for (const f of files) {
    const name = `${Date.now()}-${randomBytes(6).toString('hex')}.eml`;
    const tmp = path.join(dir, `.${name}.tmp`);
    await copyFile(f, tmp);
    await rename(tmp, path.join(dir, name));
    n++;
  }
  return n;
}

export function registerSpamCli(program: Command, ctx: () => Promise<PluginCliContext<SpamScoreConfig>>): void {
  const spam = program.command('spam').description('Train the spam classifier');
  spam.command('learn')
    .description('Learn messages (files in RFC 5322 format) as spam or ham')
    .option('--spam', 'the files are spam')
    .option('--ham', 'the files are ham (wanted mail)')
    .argument('<files...>')
    .action(async (files: string[], opts: { spam?: boolean; ham?: boolean }) => {
      if (Boolean(opts.spam) === Boolean(opts.ham)) {
        process.stderr.write('pochta spam learn: give exactly one of --spam or --ham\n');
        process.exitCode = 64;
        return;
      }
      const c = await ctx();
      try {
        const n = await queueForLearning(c.resolvePath(c.config.learnDir), opts.spam ? 'spam' : 'ham', files);
        process.stdout.write(`queued ${n} message${n === 1 ? '' : 's'} to learn as ${opts.spam ? 'spam' : 'ham'}; the server learns them within seconds (a stopped server at its next start)\n`);
      } catch (err) {
        process.stderr.write(`pochta spam learn: ${(err as Error).message}\n`);
        process.exitCode = 74;
      }
    });
}
