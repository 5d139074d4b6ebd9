/**
 * The TCP/TLS listener plumbing the mail-access protocols (IMAP, POP3) share: plain TCP (for
 * STARTTLS/STLS) or TLS from the first byte, every accepted socket tracked so stop() can end
 * connections still in a TLS handshake, a clear error naming the config key when the address
 * cannot be bound, and the polite refusal of a connection over the limit.
 */
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import type { Logger } from '../log.ts';

export interface BoundListener {
  readonly name: string;
  readonly host: string;
  readonly port: number;
  readonly server: net.Server;
}

export interface ListenOptions {
  /** 'imap' or 'pop3': the config section and the log event prefix. */
  readonly protocol: string;
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** 'implicit': TLS from the first byte; anything else is plain TCP (STARTTLS later). */
  readonly tls: string;
  readonly key: string | Buffer;
  readonly cert: string | Buffer;
  readonly minVersion: tls.SecureVersion;
  readonly handshakeTimeoutMs: number;
  /** Every accepted socket is added here and removed when it closes. */
  readonly sockets: Set<net.Socket>;
  readonly log: Logger;
  readonly onSocket: (sock: net.Socket) => void;
}

export async function listen(o: ListenOptions): Promise<BoundListener> {
  const server = o.tls === 'implicit'
    ? tls.createServer({ key: o.key, cert: o.cert, minVersion: o.minVersion, handshakeTimeout: o.handshakeTimeoutMs }, o.onSocket)
    : net.createServer(o.onSocket);
  if (server instanceof tls.Server) {
    server.on('tlsClientError', (err) => o.log.debug({ event: `${o.protocol}.tls_error`, listener: o.name, err: err.message }, 'TLS handshake failed'));
  }
  server.on('connection', (sock: net.Socket) => {
    o.sockets.add(sock);
    sock.once('close', () => o.sockets.delete(sock));
  });
  server.on('error', (err) => o.log.warn({ event: `${o.protocol}.error`, listener: o.name, err: err.message }, `${o.protocol} listener error`));
  server.listen(o.port, o.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([e]) => {
      throw new Error(`${o.protocol}.listeners.${o.name}: cannot listen on ${o.host}:${o.port}: ${(e as Error).message}`);
    }),
  ]);
  const port = (server.address() as AddressInfo).port;
  o.log.info({ event: `${o.protocol}.listening`, listener: o.name, tls: o.tls, host: o.host, port }, `${o.protocol} (${o.tls}) listening on ${o.host}:${port}`);
  return { name: o.name, host: o.host, port, server };
}

/** Send one refusal line (the protocol's "busy" answer) and close; the socket is gone within 2 s. */
export function refuse(sock: net.Socket, line: string): void {
  sock.on('error', () => {});
  sock.end(line);
  const t = setTimeout(() => sock.destroy(), 2000);
  t.unref();
  sock.once('close', () => clearTimeout(t));
}

export interface StoppableSession {
  shutdown(): void;
  readonly done: Promise<unknown>;
}

/**
 * Stop a protocol service: close the listeners, ask every session to end (the protocol's own
 * goodbye), wait for them, then destroy sockets still in a TLS handshake or lingering after a refusal.
 */
export async function stopListening(bound: BoundListener[], sessions: ReadonlySet<StoppableSession>, sockets: ReadonlySet<net.Socket>): Promise<void> {
  const closing = Promise.all(bound.map((b) => new Promise<void>((resolve) => b.server.close(() => resolve()))));
  const live = [...sessions];
  for (const s of live) s.shutdown();
  await Promise.all(live.map((s) => s.done));
  for (const sock of sockets) sock.destroy();
  await closing;
  bound.length = 0;
}
