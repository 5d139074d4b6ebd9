import { mkdir } from 'node:fs/promises';
import { systemClock, type Clock } from './clock.ts';
import { ConfigError } from './config/errors.ts';
import { loadConfig, type LoadedConfig, type LoadOptions } from './config/load.ts';
import { createResolver, type CachingResolver, type DnsResolver } from './dns.ts';
import type { KeyValueStore } from './kv/kv.ts';
import { MemoryKv } from './kv/memory.ts';
import { RedisKv } from './kv/redis.ts';
import { createLogger, type Logger } from './log.ts';
import { Metrics } from './metrics.ts';
import { resolvePlugins } from './plugin-loader.ts';
import { QueueRunner } from './queue/runner.ts';
import { Spool } from './queue/spool.ts';
import { ownsQueueId, QueueIdFactory } from './queue/ids.ts';
import { LiveQueueAdmin } from './queue/admin.ts';
import { ControlServer, controlSocketPath } from './queue/control.ts';
import type { DeliveryNotifier } from './queue/notify-port.ts';
import { DsnNotifier } from './dsn/notifier.ts';
import { submitMessage } from './submit/submit.ts';
import type { SubmitRequest, SubmitResult } from './submit/types.ts';
import { Runtime } from './runtime.ts';
import { SmtpService } from './smtp/service.ts';
import { Pop3Service } from './pop3/service.ts';
import { ImapService } from './imap/service.ts';
import { startNotifyRelay, type NotifyRelay } from './imap/notify-relay.ts';
import { fireMailboxHooks } from './imap/mailbox-hooks.ts';
import { MAIL_STORE } from './store/mail-store.ts';
import { loadTls } from './tls.ts';

export interface ServerOptions {
  loaded: LoadedConfig;
  /** Multi-process mode: this process's worker number (1..count). Absent: single process. */
  worker?: { id: number; count: number };
  log?: Logger;
  dns?: DnsResolver;
  clock?: Clock;
  kv?: KeyValueStore;
  /** Takes the delivery notices instead of the DSN notifier (tests), in place before the queue resumes. */
  notifier?: DeliveryNotifier;
}

/**
 * One Pochta server: owns every piece of state (no module-level state anywhere), starts the
 * plugins, the spool, the delivery runner and the listeners, and stops them in reverse.
 */
export class PochtaServer {
  readonly log: Logger;
  readonly metrics = new Metrics();
  readonly clock: Clock;
  readonly dns: DnsResolver;
  /** The resolver this server created (not one passed in): its sockets close on stop. */
  readonly #ownDns?: CachingResolver;
  readonly kv: KeyValueStore;
  /** Whether anyone else can hear on the kv (Redis, or one handed in); not our own in-memory one. */
  readonly #kvShared: boolean;
  #loaded: LoadedConfig;
  #runtime?: Runtime;
  #spool?: Spool;
  #queue?: QueueRunner;
  #control?: ControlServer;
  #smtp?: SmtpService;
  #pop3?: Pop3Service;
  #imap?: ImapService;
  #relay?: NotifyRelay;
  #unwatchStore?: () => void;
  #started = false;
  #notifier?: DsnNotifier;
  /** Queue ids of internally submitted mail (its own factory: the SMTP service owns the other). */
  #submitIds?: QueueIdFactory;
  readonly #worker: { id: number; count: number };
  readonly #notices?: DeliveryNotifier;

  constructor(opts: ServerOptions) {
    this.#loaded = opts.loaded;
    if (opts.notifier) this.#notices = opts.notifier;
    this.#worker = opts.worker ?? { id: 0, count: 1 };
    const cfg = opts.loaded.config;
    const log = opts.log ?? createLogger({ level: cfg.log.level, ...(cfg.log.pretty !== undefined ? { pretty: cfg.log.pretty } : {}) });
    this.log = opts.worker ? log.child({ worker: opts.worker.id }) : log;
    this.clock = opts.clock ?? systemClock;
    if (opts.dns) this.dns = opts.dns;
    else this.dns = this.#ownDns = createResolver({ ...cfg.dns, clock: this.clock });
    // Shared state: Redis when configured (several nodes share it), else this process's memory.
    const redis = cfg.kv.redis;
    this.kv = opts.kv ?? (redis ? new RedisKv(redis, this.log.child({ component: 'kv' })) : new MemoryKv(this.clock));
    this.#kvShared = opts.kv !== undefined || redis !== undefined;
  }

  get config() {
    return this.#loaded.config;
  }

  get loaded(): LoadedConfig {
    return this.#loaded;
  }

  get runtime(): Runtime {
    if (!this.#runtime) throw new Error('server not started');
    return this.#runtime;
  }

  get spool(): Spool {
    if (!this.#spool) throw new Error('server not started');
    return this.#spool;
  }

  get queue(): QueueRunner {
    if (!this.#queue) throw new Error('server not started');
    return this.#queue;
  }

  /**
   * Send mail the server writes itself (DSNs, reports) through the same hooks and durable spool
   * as user mail (core/submit). Resolves once it is fsynced; rejects with a SubmitError when refused.
   */
  submit(req: SubmitRequest): Promise<SubmitResult> {
    const queue = this.queue;
    return submitMessage({
      config: () => this.#loaded.config, runtime: () => this.runtime, spool: this.spool, queue,
      ids: (this.#submitIds ??= new QueueIdFactory(this.#worker.id)), log: this.log.child({ component: 'submit' }), metrics: this.metrics, clock: this.clock,
    }, req);
  }

  /** The DSN writer the queue reports through (core/dsn). */
  get notifier(): DsnNotifier {
    if (!this.#notifier) throw new Error('server not started');
    return this.#notifier;
  }

  /** Bound listeners (SMTP and POP3): name → host and port (useful with port 0). */
  addresses(): Record<string, { host: string; port: number }> {
    return { ...(this.#smtp?.addresses() ?? {}), ...(this.#pop3?.addresses() ?? {}), ...(this.#imap?.addresses() ?? {}) };
  }

  async #buildRuntime(loaded: LoadedConfig): Promise<Runtime> {
    const plugins = await resolvePlugins(loaded.config.plugins, loaded.baseDir);
    const rt = new Runtime(plugins, {
      log: this.log, metrics: this.metrics, clock: this.clock, kv: this.kv, dns: this.dns,
      hostname: loaded.config.hostname, dataDir: loaded.dataDir,
    });
    await rt.start();
    return rt;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('already started');
    this.#started = true;
    const loaded = this.#loaded;
    const cfg = loaded.config;
    await mkdir(loaded.dataDir, { recursive: true, mode: 0o700 });
    this.log.info({ event: 'server.starting', config: loaded.source, dataDir: loaded.dataDir, pid: process.pid }, `starting with ${loaded.source}`);
    this.#runtime = await this.#buildRuntime(loaded);
    const tls = await loadTls({ cert: cfg.tls.cert, key: cfg.tls.key, baseDir: loaded.baseDir, dataDir: loaded.dataDir, hostname: cfg.hostname, log: this.log });
    this.#spool = new Spool(loaded.dataDir, { fsync: cfg.queue.fsync });
    await this.#spool.open();
    this.#queue = new QueueRunner(this.#spool, () => this.runtime, cfg.queue, this.log.child({ component: 'queue' }), this.clock, this.metrics);
    this.#notifier = new DsnNotifier({ submit: (r) => this.submit(r), hostname: () => this.#loaded.config.hostname, config: () => this.#loaded.config.dsn, log: this.log.child({ component: 'dsn' }), clock: this.clock });
    this.#queue.notifier = this.#notices ?? this.#notifier;
    this.#smtp = new SmtpService({
      config: () => this.#loaded.config,
      runtime: () => this.runtime,
      tls, spool: this.#spool, queue: this.#queue, log: this.log, metrics: this.metrics, clock: this.clock, dns: this.dns,
      workerId: this.#worker.id,
    });
    // POP3 maildrop locks live in memory: in multi-process mode only worker 1 serves POP3
    // (the cluster then hands every POP3 connection to it).
    if (this.#worker.id <= 1) {
      this.#pop3 = new Pop3Service({ config: () => this.#loaded.config, runtime: () => this.runtime, tls, log: this.log, metrics: this.metrics });
      // IMAP sessions of one mailbox see each other through the store's in-process events: same rule.
      this.#imap = new ImapService({ config: () => this.#loaded.config, runtime: () => this.runtime, tls, log: this.log, metrics: this.metrics, dataDir: loaded.dataDir });
    }
    // Every process relays its mailbox changes over the kv (a delivery in worker 3 wakes IDLE in
    // worker 1), and this is the one place store changes become mailbox.* hooks (each process fires
    // its own). Both before recovery and the listeners, so no delivery goes unannounced.
    const store = this.runtime.services.find(MAIL_STORE);
    if (store) {
      // Not over a kv only this server holds (its own in-memory one): nobody else could hear, and
      // each delivery would pay a JSON round trip to itself.
      if (this.#kvShared) this.#relay = await startNotifyRelay({ store, kv: this.kv, log: this.log.child({ component: 'imap' }) });
      this.#unwatchStore = store.watchAll((change) => void fireMailboxHooks(this.runtime.hooks, change, this.log).catch(() => {}));
    }
    // Recovery first: it removes bodies that never got an envelope, which must not race with a
    // message arriving on a listener (its body exists before its envelope does).
    const { id: worker, count: workers } = this.#worker;
    const owns = (qid: string) => ownsQueueId(qid, worker, workers);
    await this.#queue.resume(owns);
    // `pochta queue` talks to this process here (core/queue/control.ts).
    this.#control = new ControlServer(controlSocketPath(loaded.dataDir, worker), new LiveQueueAdmin(this.#queue, this.#spool, () => this.clock.now(), owns), this.log.child({ component: 'control' }));
    await this.#control.start();
    try {
      await this.#smtp.start();
      await this.#pop3?.start();
      await this.#imap?.start();
    } catch (err) {
      await this.stop();
      throw err;
    }
    await this.runtime.hooks.server.ready.call({ hostname: cfg.hostname, dataDir: loaded.dataDir }, {});
    this.log.info({ event: 'server.ready', listeners: this.addresses() }, 'ready');
  }

  /**
   * Validate the whole new config (root and every plugin, by starting the new plugin generation)
   * before swapping; on any problem the running config stays and the error says why.
   * Listener and TLS changes need a restart; they are reported, not applied.
   */
  async reload(opts: LoadOptions = {}): Promise<{ ok: true } | { ok: false; error: string }> {
    let next: LoadedConfig;
    let rt: Runtime;
    try {
      next = await loadConfig({ ...(this.#loaded.source.startsWith('/') ? { file: this.#loaded.source } : {}), cwd: this.#loaded.baseDir, ...opts });
      rt = await this.#buildRuntime(next);
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : `reload failed: ${(err as Error).message}`;
      this.log.error({ event: 'config.reload_failed', error }, 'reload refused; the running config stays');
      return { ok: false, error };
    }
    const old = this.#runtime;
    const same = (f: (c: typeof next.config) => unknown) => JSON.stringify(f(next.config)) === JSON.stringify(f(this.#loaded.config));
    if (!same((c) => c.smtp.listeners) || !same((c) => c.pop3.listeners) || !same((c) => c.imap.listeners) || !same((c) => c.tls) || !same((c) => c.workers) || !same((c) => c.kv) || !same((c) => c.dns)) {
      this.log.warn({ event: 'config.reload_partial' }, 'listener, TLS, worker, kv or dns changes take effect at the next restart');
    }
    this.#loaded = next;
    this.#runtime = rt;
    // Connections that started before keep the old plugins until they close.
    void old?.retire();
    this.log.info({ event: 'config.reloaded', config: next.source }, 'config reloaded');
    return { ok: true };
  }

  async stop(): Promise<void> {
    this.log.info({ event: 'server.stopping' }, 'stopping');
    if (this.#runtime) await this.#runtime.hooks.server.stopping.call({ hostname: this.config.hostname, dataDir: this.#loaded.dataDir }, {});
    await this.#smtp?.stop();
    await this.#pop3?.stop();
    await this.#imap?.stop();
    this.#unwatchStore?.();
    await this.#relay?.stop();
    await this.#control?.stop();
    await this.#queue?.stop();
    await this.#runtime?.dispose();
    await this.kv.close();
    this.#ownDns?.close();
    this.log.info({ event: 'server.stopped' }, 'stopped');
    this.log.flush();
  }
}

/** Load config (file, env) and build a server. */
export async function createServer(opts: LoadOptions & { log?: Logger; dns?: DnsResolver; clock?: Clock; worker?: { id: number; count: number } } = {}): Promise<PochtaServer> {
  const loaded = await loadConfig(opts);
  return new PochtaServer({
    loaded,
    ...(opts.log ? { log: opts.log } : {}), ...(opts.dns ? { dns: opts.dns } : {}), ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.worker ? { worker: opts.worker } : {}),
  });
}
