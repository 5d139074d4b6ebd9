/**
 * IMAP4rev1 (RFC 3501) listeners: one server per enabled `imap.listeners` entry, plain TCP with
 * STARTTLS ('starttls', port 143) or TLS from the first byte ('implicit', port 993). Owns the
 * connection count and the structure cache; sessions live in session.ts. (The `mailbox.*` hooks
 * and the cross-process relay are wired in core/server.ts, for every process.)
 */
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { listen, refuse, stopListening, type BoundListener } from '../net/listener.ts';
import type { z } from 'zod';
import type { ImapListenerSchema, RootConfig } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import type { TlsMaterial } from '../tls.ts';
import { StructureCache } from './message/index.ts';
import { LiteralBudget } from './literal-budget.ts';
import { ImapSession } from './session.ts';
import { SharedUidLists } from './shared-uids.ts';

type ImapListener = z.output<typeof ImapListenerSchema>;

export interface ImapServiceDeps {
  config: () => RootConfig;
  runtime: () => Runtime;
  tls: TlsMaterial;
  log: Logger;
  metrics: Metrics;
  /** Where the per-folder structure summaries go (`<dataDir>/imap-cache`); without it, memory only. */
  dataDir?: string;
}

/** How long start() waits for the head-reading worker thread to load. */
const HEAD_WORKER_LOAD_MS = 5000;

export class ImapService {
  readonly #deps: ImapServiceDeps;
  readonly #bound: BoundListener[] = [];
  readonly #sessions = new Set<ImapSession>();
  readonly #sockets = new Set<net.Socket>();
  readonly #cache: StructureCache;
  /** One child logger for all sessions (a child per session cost memory in every idle session). */
  readonly #sessionLog: Logger;
  readonly #uidLists = new SharedUidLists();
  #budget?: LiteralBudget;
  #secureContext?: tls.SecureContext;
  #seq = 0;
  readonly #prefix = Date.now().toString(36).toUpperCase();
  #stopping = false;

  constructor(deps: ImapServiceDeps) {
    this.#deps = deps;
    // Summaries are keyed by folder and UIDVALIDITY and checked against each message's size when
    // loaded, so a recreated folder or a reused UID never gets another message's structure.
    this.#cache = new StructureCache({ maxEntries: 20_000, ...(deps.dataDir !== undefined && { dir: path.join(deps.dataDir, 'imap-cache') }) });
    this.#sessionLog = deps.log.child({ component: 'imap' });
  }

  addresses(): Record<string, { host: string; port: number }> {
    return Object.fromEntries(this.#bound.map((b) => [b.name, { host: b.host, port: b.port }]));
  }

  get connections(): number {
    return this.#sessions.size;
  }

  /** Literal bytes held by all sessions now (0 when idle: everything reserved was given back). */
  get literalBytesHeld(): number {
    return this.#budget?.used ?? 0;
  }

  async start(): Promise<void> {
    const cfg = this.#deps.config();
    const { key, cert } = this.#deps.tls;
    this.#secureContext = tls.createSecureContext({ key, cert, minVersion: cfg.tls.minVersion });
    // Literals held at once, all sessions together: room for a few full-size APPENDs.
    const maxLiteral = cfg.imap.maxLiteralSize ?? cfg.smtp.maxMessageSize;
    this.#budget = new LiteralBudget(Math.max(4 * maxLiteral, 256 * 1024 * 1024));
    const listeners = Object.entries(cfg.imap.listeners).filter(([, l]) => l.enabled);
    if (!listeners.length) return;
    try {
      // A cold folder's heads are read and parsed on a worker thread beside the sessions' event loop;
      // loaded before the first client (bounded: without it they are read on this thread).
      if (!(await this.#cache.startHeadWorker(HEAD_WORKER_LOAD_MS))) {
        this.#deps.log.warn({ event: 'imap.head_worker_unavailable' }, 'head-reading worker thread did not load; cold folders are read on the main thread');
      }
      for (const [name, l] of listeners) await this.#listen(name, l);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #listen(name: string, l: ImapListener): Promise<void> {
    const cfg = this.#deps.config();
    this.#bound.push(await listen({
      protocol: 'imap', name, host: l.host, port: l.port, tls: l.tls,
      key: this.#deps.tls.key, cert: this.#deps.tls.cert, minVersion: cfg.tls.minVersion,
      handshakeTimeoutMs: Math.min(cfg.imap.preAuthTimeoutMs, 60_000),
      sockets: this.#sockets, log: this.#deps.log, onSocket: (sock) => this.#accept(name, l, sock),
    }));
  }

  #accept(name: string, l: ImapListener, sock: net.Socket): void {
    const root = this.#deps.config();
    const cfg = root.imap;
    if (this.#stopping || this.#sessions.size >= cfg.maxConnections) {
      this.#deps.metrics.inc('imap_refused_total', { reason: 'max_connections' });
      refuse(sock, '* BYE [UNAVAILABLE] Too many connections\r\n');
      return;
    }
    const runtime = this.#deps.runtime();
    runtime.retain();
    const id = `I${this.#prefix}${(++this.#seq).toString(36).toUpperCase()}`;
    const session = new ImapSession(sock, {
      id,
      listener: name,
      tlsMode: l.tls,
      allowPlaintextAuth: cfg.allowPlaintextAuth,
      limits: {
        maxLineLength: cfg.maxLineLength,
        maxLiteralSize: cfg.maxLiteralSize ?? root.smtp.maxMessageSize,
        idleTimeoutMs: cfg.idleTimeoutMs,
        preAuthTimeoutMs: cfg.preAuthTimeoutMs,
      },
      secureContext: this.#secureContext!,
      runtime,
      cache: this.#cache,
      uidLists: this.#uidLists,
      literalBudget: this.#budget!,
      log: this.#sessionLog,
      metrics: this.#deps.metrics,
    });
    this.#sessions.add(session);
    void session.done.finally(() => {
      this.#sessions.delete(session);
      runtime.release();
    });
  }

  /** Close the listeners, BYE every session, and wait until they are gone. */
  async stop(): Promise<void> {
    this.#stopping = true;
    await stopListening(this.#bound, this.#sessions, this.#sockets);
    await this.#cache.close();
  }
}
