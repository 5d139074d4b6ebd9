/**
 * POP3 (RFC 1939) with CAPA and response codes (RFC 2449, RFC 3206), STLS (RFC 2595) and SASL
 * PLAIN (RFC 5034, RFC 4616): one server per enabled `pop3.listeners` entry, plain TCP with STLS
 * ('starttls') or TLS from the first byte ('implicit'). Owns the connection count and the
 * per-user maildrop locks; sessions live in session.ts.
 */
import type net from 'node:net';
import tls from 'node:tls';
import { listen, refuse, stopListening, type BoundListener } from '../net/listener.ts';
import type { Pop3ListenerSchema, RootConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TlsMaterial } from '../tls.ts';
import type { z } from 'zod';
import { Pop3Session, type MaildropLocks } from './session.ts';

type Pop3Listener = z.output<typeof Pop3ListenerSchema>;

export interface Pop3ServiceDeps {
  config: () => RootConfig;
  runtime: () => Runtime;
  tls: TlsMaterial;
  log: Logger;
  metrics: Metrics;
}

export class Pop3Service implements MaildropLocks {
  readonly #deps: Pop3ServiceDeps;
  readonly #sessionLog: Logger;
  readonly #bound: BoundListener[] = [];
  readonly #sessions = new Set<Pop3Session>();
  /** Every accepted TCP connection, sessions or not yet (TLS handshakes), so stop() can end them. */
  readonly #sockets = new Set<net.Socket>();
  /** user id → the session holding the maildrop (RFC 1939 §8: exclusive access). */
  readonly #locks = new Map<string, object>();
  #secureContext?: tls.SecureContext;
  #seq = 0;
  readonly #prefix = Date.now().toString(36).toUpperCase();
  #stopping = false;

  constructor(deps: Pop3ServiceDeps) {
    this.#deps = deps;
    this.#sessionLog = deps.log.child({ component: 'pop3' });
  }

  /** Listener name → the address it is bound to (port 0 in config means "pick one"). */
  addresses(): Record<string, { host: string; port: number }> {
    return Object.fromEntries(this.#bound.map((b) => [b.name, { host: b.host, port: b.port }]));
  }

  /** Sessions open now. */
  get connections(): number {
    return this.#sessions.size;
  }

  acquire(user: string, holder: object): boolean {
    const cur = this.#locks.get(user);
    if (cur && cur !== holder) return false;
    this.#locks.set(user, holder);
    return true;
  }

  release(user: string, holder: object): void {
    if (this.#locks.get(user) === holder) this.#locks.delete(user);
  }

  async start(): Promise<void> {
    const cfg = this.#deps.config();
    const { key, cert } = this.#deps.tls;
    this.#secureContext = tls.createSecureContext({ key, cert, minVersion: cfg.tls.minVersion });
    try {
      for (const [name, l] of Object.entries(cfg.pop3.listeners)) {
        if (!l.enabled) continue;
        await this.#listen(name, l);
      }
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #listen(name: string, l: Pop3Listener): Promise<void> {
    const cfg = this.#deps.config();
    this.#bound.push(await listen({
      protocol: 'pop3', name, host: l.host, port: l.port, tls: l.tls,
      key: this.#deps.tls.key, cert: this.#deps.tls.cert, minVersion: cfg.tls.minVersion,
      handshakeTimeoutMs: Math.min(cfg.pop3.idleTimeoutMs, 60_000),
      sockets: this.#sockets, log: this.#deps.log, onSocket: (sock) => this.#accept(name, l, sock),
    }));
  }

  #accept(name: string, l: Pop3Listener, sock: net.Socket): void {
    const cfg = this.#deps.config().pop3;
    if (this.#stopping || this.#sessions.size >= cfg.maxConnections) {
      this.#deps.metrics.inc('pop3_refused_total', { reason: 'max_connections' });
      refuse(sock, '-ERR [SYS/TEMP] too many connections\r\n');
      return;
    }
    const runtime = this.#deps.runtime();
    runtime.retain();
    const id = `P${this.#prefix}${(++this.#seq).toString(36).toUpperCase()}`;
    const session = new Pop3Session(sock, {
      id,
      listener: name,
      tlsMode: l.tls,
      allowPlaintextAuth: cfg.allowPlaintextAuth,
      idleTimeoutMs: cfg.idleTimeoutMs,
      maxLineLength: cfg.maxLineLength,
      secureContext: this.#secureContext!,
      runtime,
      locks: this,
      log: this.#sessionLog,
      metrics: this.#deps.metrics,
    });
    this.#sessions.add(session);
    void session.done.finally(() => {
      this.#sessions.delete(session);
      runtime.release();
    });
  }

  /** Close the listeners, end every session (no UPDATE), and wait until they are gone. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await stopListening(this.#bound, this.#sessions, this.#sockets);
  }
}
