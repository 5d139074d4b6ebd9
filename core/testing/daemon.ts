import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { rm } from 'node:fs/promises';
import net from 'node:net';

/** A free TCP port on 127.0.0.1, chosen by the kernel. A small race remains; callers retry. */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Connect, send `probe`, resolve true when `expect` comes back; false on any error. One try, bounded. */
export async function probe(target: { port: number; host: string } | { path: string }, send: Buffer | string, expect: string, timeoutMs = 500): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const sock = net.connect(target as net.NetConnectOpts);
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    sock.once('connect', () => sock.write(send));
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (buf.includes(expect)) done(true);
    });
    sock.once('error', () => done(false));
    sock.once('close', () => done(buf.includes(expect)));
  });
}

/** Poll `check` every 20 ms until it is true, the child exits, or `totalMs` passes. */
export async function waitReady(check: () => Promise<boolean>, exited: () => boolean, totalMs = 5000): Promise<boolean> {
  const deadline = Date.now() + totalMs;
  while (Date.now() < deadline) {
    if (exited()) return false;
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

export interface DaemonSpec {
  /** Used in error messages. */
  readonly name: string;
  readonly command: string;
  /** The daemon's temp directory; removed when start fails and on stop(). */
  readonly dir: string;
  /** Arguments for a start on `port` (may write a config file that names the port first). */
  args(port: number): Promise<string[]> | string[];
  /** A fixed port instead of a free one (restart tests); a collision is then not retried. */
  readonly port?: number;
  /** Ready when `send` on the TCP port gets `expect` back within `timeoutMs` per try. */
  readonly ping: { readonly send: string; readonly expect: string; readonly timeoutMs?: number };
  /** Bound on the whole wait for readiness. */
  readonly readyMs: number;
  /** Whether a failed start's output (stdout+stderr) says the port was taken: then retry on another port. */
  portTaken(out: string): Promise<boolean> | boolean;
  /** Extra text for the "did not start" error (e.g. the tail of a log file). */
  failureDetail?(): Promise<string>;
  /** SIGTERM, then SIGKILL after this long. */
  readonly stopGraceMs: number;
  /** SIGKILL the child when the test process exits without stop(). */
  readonly killOnExit: boolean;
}

export interface Daemon {
  readonly port: number;
  /** Stop the daemon (SIGTERM, SIGKILL after the grace bound, wait for exit) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

const ATTEMPTS = 5;

/** Start a test daemon on a free loopback port, retrying (bounded) when the port was taken meanwhile. */
export async function startDaemon(spec: DaemonSpec): Promise<Daemon> {
  let out = '';
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const port = spec.port ?? (await freePort());
    const args = await spec.args(port);
    const proc = spawn(spec.command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let spawnError: Error | undefined;
    proc.once('error', (e) => (spawnError = e));
    const alive = () => proc.exitCode === null && proc.signalCode === null;
    const ok = await waitReady(() => probe({ port, host: '127.0.0.1' }, spec.ping.send, spec.ping.expect, spec.ping.timeoutMs),
      () => !alive() || Boolean(spawnError), spec.readyMs);
    if (!ok) {
      if (alive()) {
        proc.kill('SIGKILL');
        await once(proc, 'exit');
      }
      if (spawnError) throw new Error(`${spec.name} could not be started: ${spawnError.message}`);
      if (spec.port === undefined && (await spec.portTaken(out))) continue;
      const detail = spec.failureDetail ? `\n${await spec.failureDetail()}` : '';
      await rm(spec.dir, { recursive: true, force: true });
      throw new Error(`${spec.name} did not start: ${out.trim()}${detail}`);
    }
    // A test process that exits without stop() (a runner timeout, --test-force-exit) must not
    // leave the server running: kill it synchronously on exit.
    const onExit = () => proc.kill('SIGKILL');
    if (spec.killOnExit) process.once('exit', onExit);
    let stopped = false;
    return {
      port,
      async stop() {
        if (stopped) return;
        stopped = true;
        process.off('exit', onExit);
        if (alive()) {
          const exited = once(proc, 'exit');
          proc.kill('SIGTERM');
          const t = setTimeout(() => proc.kill('SIGKILL'), spec.stopGraceMs);
          await exited;
          clearTimeout(t);
        }
        await rm(spec.dir, { recursive: true, force: true });
      },
    };
  }
  await rm(spec.dir, { recursive: true, force: true });
  throw new Error(`${spec.name}: port collisions; last output: ${out.trim()}`);
}
