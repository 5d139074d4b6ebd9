import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { createServer } from '../server.ts';
import type { GlobalOpts } from './load-for-cli.ts';

/** `pochta start`: run until SIGTERM/SIGINT; SIGHUP reloads the config. */
export async function startCommand(opts: GlobalOpts): Promise<void> {
  const server = await createServer(opts.config ? { file: opts.config } : {});
  await server.start();
  const pidFile = path.join(server.loaded.dataDir, 'pochta.pid');
  await writeFile(pidFile, `${process.pid}\n`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.log.info({ event: 'server.signal', signal }, `received ${signal}`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await server.stop();
    await rm(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    void server.reload().then((r) => {
      if (!r.ok) server.log.error({ event: 'config.reload_failed' }, r.error);
    });
  });
}
