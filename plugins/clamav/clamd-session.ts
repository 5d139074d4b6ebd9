/**
 * clamd sessions reused across messages (clamd(8), IDSESSION): one connection carries many
 * INSTREAM requests, so a message costs no TCP connect/teardown. Each session serves one scan at
 * a time (clamd wants every reply read before the next command); replies carry the request's
 * number ("<id>: stream: OK"), which is checked. Idle sessions are kept up to `maxIdle`, unref'd,
 * and dropped when clamd closes them (its IdleTimeout, a restart) or after `idleMs`. A reused
 * session that turns out closed before any reply is replaced once by a fresh connection, with the
 * message re-read from the start; every other failure is ClamdUnavailable, as with one-off scans.
 */
import type net from 'node:net';
import type { Readable } from 'node:stream';
import { armDeadlines, connectTarget, whenConnected } from '../../core/net/scan-socket.ts';
import { ClamdUnavailable, parseReply, sendInstream, type ClamdTarget, type ScanOptions, type ScanResult } from './clamd-client.ts';

export interface SessionPoolOptions {
  /** Most idle sessions kept; more concurrent scans open more sessions, closed after use. */
  readonly maxIdle: number;
  /** An idle session older than this is closed rather than reused (stay below clamd's IdleTimeout). */
  readonly idleMs: number;
  readonly now?: () => number;
}

class Session {
  /** The number of the last request sent (clamd counts from 1). */
  requests = 0;
  buffer = '';
  idleSince = 0;
  closed = false;
  failure: Error | undefined;
  #wake: (() => void) | undefined;

  constructor(readonly sock: net.Socket) {
    sock.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.#wake?.();
    });
    sock.on('error', (err) => {
      this.failure ??= err;
    });
    sock.on('close', () => {
      this.closed = true;
      this.#wake?.();
    });
  }

  /** The next NUL-terminated reply, or undefined when the connection closed first. */
  async reply(): Promise<string | undefined> {
    for (;;) {
      const end = this.buffer.indexOf('\0');
      if (end >= 0) {
        const line = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 1);
        return line;
      }
      if (this.closed) return undefined;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  hasReply(): boolean {
    return this.closed || this.buffer.includes('\0');
  }

  destroy(): void {
    this.closed = true;
    this.sock.destroy();
  }
}

/** A reused session was found closed before it answered: worth one retry on a new connection. */
class StaleSession extends Error {}

export class ClamdSessionPool {
  readonly #idle: Session[] = [];
  readonly #target: ClamdTarget;
  readonly #opts: SessionPoolOptions;
  #closed = false;

  constructor(target: ClamdTarget, opts: SessionPoolOptions) {
    this.#target = target;
    this.#opts = opts;
  }

  /** Idle sessions, for tests and stats. */
  get idle(): number {
    return this.#idle.length;
  }

  /**
   * Scan one message; `open` gives a fresh stream of it (called again only for the one retry).
   * Resolves to clean/infected/error; rejects with ClamdUnavailable when clamd is down or slow.
   */
  async scan(open: () => Readable, opts: ScanOptions): Promise<ScanResult> {
    const reused = this.#takeIdle();
    if (reused) {
      try {
        return await this.#scanOn(reused, open(), opts);
      } catch (err) {
        if (!(err instanceof StaleSession)) throw err;
      }
    }
    return this.#scanOn(undefined, open(), opts);
  }

  /** Close every idle session (END, then close); later scans open new ones. */
  close(): void {
    this.#closed = true;
    for (const s of this.#idle.splice(0)) {
      s.sock.end('zEND\0');
      s.sock.destroySoon();
    }
  }

  #takeIdle(): Session | undefined {
    const now = (this.#opts.now ?? Date.now)();
    for (;;) {
      const s = this.#idle.pop();
      if (!s) return undefined;
      if (!s.closed && !s.buffer && now - s.idleSince < this.#opts.idleMs) return s;
      s.destroy();
    }
  }

  #release(s: Session): void {
    if (this.#closed || s.closed || this.#idle.length >= this.#opts.maxIdle) {
      s.destroy();
      return;
    }
    s.idleSince = (this.#opts.now ?? Date.now)();
    s.sock.unref();
    this.#idle.push(s);
  }

  /** clamd closed a session: an idle one is no longer offered. */
  #forget(s: Session): void {
    const i = this.#idle.indexOf(s);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  async #scanOn(existing: Session | undefined, input: Readable, opts: ScanOptions): Promise<ScanResult> {
    const reused = existing !== undefined;
    let timedOut: ClamdUnavailable | undefined;
    let s = existing;
    const stop = (why: string) => {
      timedOut ??= new ClamdUnavailable(why);
      s?.destroy();
      input.destroy();
    };
    const deadlines = armDeadlines(opts, stop);
    let keep = false;
    try {
      if (!s) {
        const sock = connectTarget(this.#target);
        s = new Session(sock);
        const fresh = s;
        sock.once('close', () => this.#forget(fresh));
        await whenConnected(sock, () => timedOut ?? new ClamdUnavailable(fresh.failure?.message ?? 'closed before connect'));
        sock.write('zIDSESSION\0');
      }
      deadlines.connected();
      s.sock.ref();
      const session = s;
      const id = ++session.requests;
      await sendInstream(session.sock, input, { command: 'zINSTREAM\0', chunkBytes: opts.chunkBytes ?? 64 * 1024, answered: () => session.hasReply() });
      const line = await session.reply();
      if (line === undefined) {
        if (timedOut) throw timedOut;
        // Closed with nothing said: on a reused session, clamd had dropped it (idle timeout, restart).
        if (reused && !session.buffer) throw new StaleSession('session closed');
        throw new ClamdUnavailable(session.failure?.message ?? 'clamd closed without a verdict');
      }
      const m = /^(\d+): (.*)$/s.exec(line);
      // Without a request number clamd answered outside the session (e.g. "INSTREAM size limit exceeded. ERROR").
      if (m && Number(m[1]) !== id) throw new ClamdUnavailable(`reply to request ${m[1]}, expected ${id}`);
      const result = parseReply(m ? (m[2] ?? '') : line);
      keep = Boolean(m) && result.kind !== 'error';
      return result;
    } catch (err) {
      if (err instanceof StaleSession || err instanceof ClamdUnavailable) throw err;
      throw timedOut ?? new ClamdUnavailable((err as Error).message);
    } finally {
      deadlines.dispose();
      input.destroy();
      if (s) {
        if (keep) this.#release(s);
        else s.destroy();
      }
    }
  }
}
