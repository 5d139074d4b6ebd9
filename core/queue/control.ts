import { chmod, unlink } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { QueueAdmin } from './admin.ts';

/**
 * The control channel of a running server: a unix socket in the data directory (mode 0600 in a
 * 0700 directory: only the server's user connects), one newline-terminated JSON request per
 * connection, answered with JSON lines (`{"row":…}` per listed message, then one final
 * `{"ok":…}` or `{"error":…}`). Requests are bounded; anything else gets an error and the close.
 */
export const MAX_REQUEST_BYTES = 4096;

/** sockaddr_un holds 108 bytes with the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** `control.sock` for a single process, `control-<n>.sock` for worker n. */
export function controlSocketPath(dataDir: string, worker = 0): string {
  return path.join(dataDir, worker ? `control-${worker}.sock` : 'control.sock');
}

export const CONTROL_SOCKET = /^control(-\d+)?\.sock$/;

export interface ControlRequest {
  op: 'list' | 'show' | 'retry' | 'retryAll' | 'delete' | 'bounce' | 'stats' | 'hold' | 'release' | 'held';
  id?: string;
}

const OPS = new Set<string>(['list', 'show', 'retry', 'retryAll', 'delete', 'bounce', 'stats', 'hold', 'release', 'held']);

export function parseRequest(line: string): ControlRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'request is not JSON';
  }
  if (!v || typeof v !== 'object') return 'request is not an object';
  const { op, id } = v as Record<string, unknown>;
  if (typeof op !== 'string' || !OPS.has(op)) return 'unknown op';
  if (id !== undefined && typeof id !== 'string') return 'id must be a string';
  if (['show', 'retry', 'delete', 'bounce'].includes(op) && !id) return `${op} needs an id`;
  return { op: op as ControlRequest['op'], ...(id ? { id } : {}) };
}

/** Whether something answers on the socket (a live server) rather than a file left by a crash. */
export function socketAnswers(p: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(p);
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export class ControlServer {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #listening = false;

  constructor(readonly path: string, private readonly admin: QueueAdmin, private readonly log: Logger) {
    this.#server = net.createServer((s) => this.#serve(s));
  }

  /** Listen; false (logged) when the path is unusable or another live server holds it. */
  async start(): Promise<boolean> {
    if (Buffer.byteLength(this.path) > MAX_SOCKET_PATH) {
      this.log.warn({ event: 'control.path_too_long', path: this.path }, 'control socket path too long; `pochta queue` will not reach this server');
      return false;
    }
    if (await socketAnswers(this.path)) {
      this.log.error({ event: 'control.in_use', path: this.path }, 'another server answers on the control socket; not taking it over');
      return false;
    }
    await unlink(this.path).catch(() => undefined); // left by a crash
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.path, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.path, 0o600);
    this.#listening = true;
    this.log.debug({ event: 'control.listening', path: this.path }, 'control socket ready');
    return true;
  }

  async stop(): Promise<void> {
    if (!this.#listening) return;
    this.#listening = false;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  #serve(s: net.Socket): void {
    this.#sockets.add(s);
    s.once('close', () => this.#sockets.delete(s));
    s.on('error', () => s.destroy());
    s.setTimeout(30_000, () => s.destroy());
    let buf = '';
    const onData = (chunk: Buffer) => {
      buf += chunk.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl < 0 && buf.length <= MAX_REQUEST_BYTES) return;
      s.off('data', onData);
      s.pause();
      if (nl < 0 || nl > MAX_REQUEST_BYTES) {
        s.end(JSON.stringify({ error: 'request too large' }) + '\n');
        return;
      }
      void this.#answer(s, buf.slice(0, nl));
    };
    s.on('data', onData);
  }

  async #answer(s: net.Socket, line: string): Promise<void> {
    const write = async (v: unknown) => {
      if (!s.write(JSON.stringify(v) + '\n')) await new Promise((r) => s.once('drain', r));
    };
    const req = parseRequest(line);
    try {
      if (typeof req === 'string') return void s.end(JSON.stringify({ error: req }) + '\n');
      this.log.info({ event: 'control.request', op: req.op, queueId: req.id }, 'queue command');
      const a = this.admin;
      const id = req.id ?? '';
      let out: unknown;
      switch (req.op) {
        case 'list':
          for await (const row of a.list()) {
            if (s.destroyed) return;
            await write({ row });
          }
          out = { ok: true };
          break;
        case 'show': {
          const r = await a.show(id);
          out = r ? { ok: true, show: r } : { ok: false };
          break;
        }
        case 'retry': out = { ok: await a.retry(id) }; break;
        case 'delete': out = { ok: await a.delete(id) }; break;
        case 'bounce': out = { ok: await a.bounce(id) }; break;
        case 'retryAll': out = { ok: true, count: await a.retryAll() }; break;
        case 'stats': out = { ok: true, stats: await a.stats() }; break;
        case 'hold': await a.hold(); out = { ok: true }; break;
        case 'release': out = { ok: true, count: await a.release() }; break;
        case 'held': out = { ok: true, held: await a.held() }; break;
      }
      s.end(JSON.stringify(out) + '\n');
    } catch (err) {
      this.log.error({ event: 'control.error', err }, 'queue command failed');
      s.end(JSON.stringify({ error: (err as Error).message }) + '\n');
    }
  }
}
