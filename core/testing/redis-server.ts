import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon } from './daemon.ts';

export { freePort } from './daemon.ts';

export interface TestRedis {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The unix socket, when started with `unixSocket: true`. */
  readonly path?: string;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Stop the server (SIGTERM, wait for exit) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A throw-away redis-server on a free loopback port: nothing persisted, its own temp directory.
 * `--port 0` would switch TCP off, so a free port is picked first and a collision retried.
 */
export async function startRedis(opts: { unixSocket?: boolean; /** Reuse a port (restart tests). */ port?: number } = {}): Promise<TestRedis> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-redis-'));
  const sock = path.join(dir, 'redis.sock');
  const daemon = await startDaemon({
    name: 'redis-server',
    command: 'redis-server',
    dir,
    ...(opts.port !== undefined ? { port: opts.port } : {}),
    args: (port) => [
      '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no', '--loglevel', 'warning',
      ...(opts.unixSocket ? ['--unixsocket', sock, '--unixsocketperm', '700'] : []),
    ],
    ping: { send: 'PING\r\n', expect: '+PONG' },
    readyMs: 15_000,
    portTaken: (out) => /Address already in use/i.test(out),
    stopGraceMs: 5000,
    killOnExit: true,
  });
  return {
    host: '127.0.0.1',
    port: daemon.port,
    ...(opts.unixSocket ? { path: sock } : {}),
    url: `redis://127.0.0.1:${daemon.port}`,
    stop: () => daemon.stop(),
  };
}
