/**
 * Socket plumbing shared by the clients of external scanners (clamd, spamd, rspamd): where to
 * connect, the two deadlines every scan is bounded by (connect, whole scan) plus the caller's
 * abort signal, and waiting out backpressure. Protocol-free: each client speaks its own protocol.
 */
import net from 'node:net';

export interface ScanTarget {
  /** A unix socket path; wins over host/port. */
  readonly socket?: string | undefined;
  readonly host: string;
  readonly port: number;
}

export interface ScanDeadlineOptions {
  readonly connectTimeoutMs: number;
  /** The whole scan: connect, send, verdict. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal | undefined;
}

export interface ScanDeadlines {
  /** The connection is up: the connect deadline no longer applies. */
  connected(): void;
  /** Clear both timers and the abort listener (call in `finally`). */
  dispose(): void;
}

/** Connect to a scanner's unix socket or TCP port. */
export function connectTarget(target: ScanTarget): net.Socket {
  return target.socket ? net.connect({ path: target.socket }) : net.connect({ host: target.host, port: target.port });
}

/** Call `stop(why)` when the connect deadline, the scan deadline or the caller's abort comes first. */
export function armDeadlines(opts: ScanDeadlineOptions, stop: (why: string) => void): ScanDeadlines {
  const onAbort = () => stop('scan aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const connectTimer = setTimeout(() => stop(`no connection within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
  const timer = setTimeout(() => stop(`no verdict within ${opts.timeoutMs} ms`), opts.timeoutMs);
  return {
    connected: () => clearTimeout(connectTimer),
    dispose() {
      clearTimeout(connectTimer);
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Resolve on connect; reject with `closedError()` when the socket closes first (an error closes it). */
export function whenConnected(sock: net.Socket, closedError: () => Error): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    sock.once('connect', () => resolve());
    sock.once('close', () => reject(closedError()));
  });
}

/** After a write returned false: wait until the socket drains, or closes (then writing is over). */
export function drainOrClose(sock: net.Socket): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = () => {
      sock.off('drain', done);
      sock.off('close', done);
      resolve();
    };
    sock.once('drain', done);
    sock.once('close', done);
  });
}
