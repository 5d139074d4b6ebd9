import type { Clock } from './clock.ts';
import type { DnsResolver } from './dns.ts';
import { createHooks, type Hooks } from './hooks.ts';
import type { TapOwner } from './hook-runner.ts';
import type { KeyValueStore } from './kv/kv.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { Dispose, PluginContext, PluginHooks } from './plugin.ts';
import type { ResolvedPlugin } from './plugin-loader.ts';
import { ServiceRegistry } from './services.ts';
import path from 'node:path';
import { setMaxListeners } from 'node:events';

export interface RuntimeEnv {
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  kv: KeyValueStore;
  dns: DnsResolver;
  hostname: string;
  dataDir: string;
}

/** Build the tap-only view of `hooks` for one plugin. */
function tapView(hooks: Hooks, owner: TapOwner): PluginHooks {
  const view: Record<string, Record<string, unknown>> = {};
  for (const [group, members] of Object.entries(hooks)) {
    const g: Record<string, unknown> = {};
    for (const [key, hook] of Object.entries(members as Record<string, { tap: (o: TapOwner, fn: unknown, opts?: unknown) => void }>)) {
      g[key] = Object.freeze({ tap: (fn: unknown, opts?: unknown) => hook.tap(owner, fn, opts) });
    }
    view[group] = Object.freeze(g);
  }
  return Object.freeze(view) as unknown as PluginHooks;
}

/**
 * One generation of plugins: its own hooks, services and plugin instances. A reload builds a new
 * Runtime from the new config and swaps it in; connections keep the one they started with.
 */
export class Runtime {
  readonly hooks: Hooks;
  readonly services = new ServiceRegistry();
  readonly plugins: ResolvedPlugin[];
  readonly #disposers: Array<{ name: string; dispose: Dispose; ac: AbortController }> = [];
  readonly #env: RuntimeEnv;
  /** Connections still served by this generation (see retain/retire). */
  #users = 0;
  #retired?: { done: Promise<void>; resolve: () => void; timer: NodeJS.Timeout };

  constructor(plugins: ResolvedPlugin[], env: RuntimeEnv) {
    this.#env = env;
    this.plugins = plugins;
    this.hooks = createHooks({ metrics: env.metrics });
  }

  /** Register every enabled plugin in config order. A failing register stops the start, naming the plugin. */
  async start(): Promise<void> {
    const env = this.#env;
    for (const p of this.plugins) {
      if (!p.enabled) continue;
      const ac = new AbortController();
      // Every tap call in flight listens on this signal; hundreds at once is normal, not a leak.
      setMaxListeners(0, ac.signal);
      const log = env.log.child({ plugin: p.name });
      const owner: TapOwner = { name: p.name, timeoutMs: p.timeoutMs, log, signal: ac.signal };
      const services = this.services;
      const ctx: PluginContext<Record<string, unknown>> = {
        name: p.name,
        config: p.config,
        log,
        clock: env.clock,
        kv: env.kv,
        dns: env.dns,
        metrics: env.metrics,
        services: {
          provide: (key, value) => services.provide(key, value, p.name),
          get: (key) => services.get(key),
          find: (key) => services.find(key),
        },
        server: { hostname: env.hostname, dataDir: env.dataDir },
        resolvePath: (x) => path.resolve(env.dataDir, x),
        signal: ac.signal,
        drives: { outbound: { route: this.hooks.outbound.route, tlsPolicy: this.hooks.outbound.tlsPolicy, beforeAttempt: this.hooks.outbound.beforeAttempt } },
      };
      let dispose: Dispose | void;
      try {
        dispose = await p.definition.register(tapView(this.hooks, owner), ctx);
      } catch (err) {
        ac.abort();
        await this.dispose();
        throw new Error(`plugin ${p.name} failed to start: ${(err as Error).message}`, { cause: err });
      }
      this.#disposers.push({ name: p.name, dispose: dispose ?? (() => {}), ac });
    }
  }

  /** A connection starts using this generation; it keeps it until release(), across a reload. */
  retain(): void {
    this.#users++;
  }

  release(): void {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users === 0 && this.#retired) this.#finishRetire();
  }

  /**
   * A reload replaced this generation: dispose it once its last connection closes, or after
   * `graceMs` at the latest (a connection that never ends must not pin old plugins forever).
   */
  retire(graceMs = 600_000): Promise<void> {
    if (this.#retired) return this.#retired.done;
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const timer = setTimeout(() => this.#finishRetire(), graceMs);
    timer.unref();
    this.#retired = { done, resolve, timer };
    if (this.#users === 0) this.#finishRetire();
    return done;
  }

  #finishRetire(): void {
    const r = this.#retired;
    if (!r) return;
    clearTimeout(r.timer);
    void this.dispose().then(r.resolve);
  }

  /** Dispose plugins in reverse order; errors are logged, not thrown, so every plugin gets its turn. */
  async dispose(): Promise<void> {
    while (this.#disposers.length) {
      const d = this.#disposers.pop()!;
      d.ac.abort(new Error('plugin disposed'));
      try {
        await d.dispose();
      } catch (err) {
        this.#env.log.error({ plugin: d.name, err }, 'plugin dispose failed');
      }
      this.services.withdrawAll(d.name);
    }
  }
}
