import cluster from 'node:cluster';
import { writeFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { PochtaServer } from '../server.ts';
import type { GlobalOpts } from './load-for-cli.ts';
import { supervise, WORKER_COUNT_ENV, WORKER_ID_ENV } from './supervisor.ts';

/** `pochta start`: run until SIGTERM/SIGINT; SIGHUP reloads the config. */
export async function startCommand(opts: GlobalOpts): Promise<void> {
  const loaded = await loadConfig(opts.config ? { file: opts.config } : {});
  if (cluster.isPrimary && loaded.config.workers > 1) return supervise(loaded, opts.config);
  const worker = cluster.isWorker
    ? { id: Number(process.env[WORKER_ID_ENV]), count: Number(process.env[WORKER_COUNT_ENV]) }
    : undefined;
  const server = new PochtaServer({ loaded, ...(worker ? { worker } : {}) });
  // In multi-process mode the primary owns the pid file.
  const pidFile = worker ? undefined : path.join(server.loaded.dataDir, 'pochta.pid');
  // Signal handlers go in before start: a SIGHUP's default action would kill the process, and
  // the listeners are reachable before start() returns. Signals wait for the start to finish.
  const started = server.start();
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    await started.catch(() => undefined);
    server.log.info({ event: 'server.signal', signal }, `received ${signal}`);
    const force = setTimeout(() => process.exit(1), 15_000);
    force.unref();
    await server.stop();
    if (pidFile) await rm(pidFile, { force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => {
    void started.then(() => server.reload()).then((r) => {
      if (!r.ok) server.log.error({ event: 'config.reload_failed' }, r.error);
    }, () => undefined);
  });
  await started;
  if (pidFile) await writeFile(pidFile, `${process.pid}\n`);
}
