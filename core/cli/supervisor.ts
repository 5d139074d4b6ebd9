import cluster, { type Worker } from 'node:cluster';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { LoadedConfig } from '../config/load.ts';
import { loadConfig } from '../config/load.ts';
import { createLogger, type Logger } from '../log.ts';
import { resolvePlugins } from '../plugin-loader.ts';
import { loadTls } from '../tls.ts';

export const WORKER_ID_ENV = 'POCHTA_CLUSTER_WORKER_ID';
export const WORKER_COUNT_ENV = 'POCHTA_CLUSTER_WORKERS';

/** Restarts allowed within RESTART_WINDOW_MS before the supervisor gives up (a crash loop). */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;

/**
 * Multi-process mode (`workers: N`): the primary runs no plugin and serves no connection; it forks N
 * workers that share the listening sockets (node:cluster), restarts one that dies (it then recovers
 * the messages it had received), forwards SIGHUP after validating the config, and stops them all
 * on SIGTERM/SIGINT.
 */
export async function supervise(loaded: LoadedConfig, configFile: string | undefined): Promise<void> {
  const cfg = loaded.config;
  const log: Logger = createLogger({ level: cfg.log.level, ...(cfg.log.pretty !== undefined ? { pretty: cfg.log.pretty } : {}) }).child({ worker: 'primary' });
  const count = cfg.workers;
  const workers = new Map<number, Worker>();
  const restarts: number[] = [];
  let stopping = false;

  // Workers accept connections themselves from the shared socket (the kernel picks one), unless the
  // admin chose otherwise through NODE_CLUSTER_SCHED_POLICY. Node's default on Linux, round-robin,
  // has the primary accept every connection and pass it to a worker over IPC: with a connection per
  // message that cost the primary 0.16 ms per message and the machine a tenth of its rate
  // (2 workers, 8 sessions: 567 → 627 msg/s, 2.65 → 2.39 ms CPU per message).
  if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const fork = (id: number) => {
    const w = cluster.fork({ [WORKER_ID_ENV]: String(id), [WORKER_COUNT_ENV]: String(count) });
    workers.set(id, w);
    w.on('exit', (code, signal) => {
      if (workers.get(id) === w) workers.delete(id);
      if (stopping) return;
      log.error({ event: 'worker.exited', id, code, signal }, `worker ${id} exited; restarting it`);
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && now - restarts[0] > RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        log.fatal({ event: 'worker.crash_loop', restarts: restarts.length }, 'workers keep dying; stopping');
        void stop(1);
        return;
      }
      setTimeout(() => { if (!stopping) fork(id); }, 500).unref();
    });
  };

  const pidFile = path.join(loaded.dataDir, 'pochta.pid');
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info({ event: 'server.stopping' }, 'stopping workers');
    const exits = [...workers.values()].map((w) => new Promise<void>((resolve) => {
      if (w.isDead()) return resolve();
      w.once('exit', () => resolve());
      w.process.kill('SIGTERM');
    }));
    const force = setTimeout(() => { for (const w of workers.values()) w.process.kill('SIGKILL'); }, 15_000);
    force.unref();
    await Promise.all(exits);
    clearTimeout(force);
    await rm(pidFile, { force: true });
    process.exit(code);
  };

  await mkdir(loaded.dataDir, { recursive: true, mode: 0o700 });
  // Generate the self-signed pair (if one is needed) once, before the workers race to do it.
  await loadTls({ cert: cfg.tls.cert, key: cfg.tls.key, baseDir: loaded.baseDir, dataDir: loaded.dataDir, hostname: cfg.hostname, log });
  await writeFile(pidFile, `${process.pid}\n`);
  for (let id = 1; id <= count; id++) fork(id);
  log.info({ event: 'server.supervising', workers: count }, `started ${count} workers`);

  process.on('SIGTERM', () => void stop(0));
  process.on('SIGINT', () => void stop(0));
  process.on('SIGHUP', () => {
    // Validate once here, so a bad file is reported once and no worker is asked to try it.
    void loadConfig(configFile ? { file: configFile } : {})
      .then(async (next) => {
        await resolvePlugins(next.config.plugins, next.baseDir);
        if (next.config.workers !== count) log.warn({ event: 'config.reload_partial' }, 'a new worker count takes effect at the next restart');
        for (const w of workers.values()) w.process.kill('SIGHUP');
        log.info({ event: 'config.reload_forwarded' }, 'config valid; workers reloading');
      })
      .catch((err: Error) => log.error({ event: 'config.reload_failed', error: err.message }, 'reload refused; the running config stays'));
  });
}
