import type { Command } from 'commander';
import type { z } from 'zod';
import type { Clock } from './clock.ts';
import type { NotifyFn, NotifyHook, TapFn, TapOptions, VerdictHook } from './hook-runner.ts';
import type { Hooks } from './hooks.ts';
import type { KeyValueStore } from './kv/kv.ts';
import type { Logger } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { ServiceKey } from './services.ts';
import type { DnsResolver } from './dns.ts';

/** A hook as a plugin sees it: it may tap, never call. */
export type TapView<H> =
  H extends VerdictHook<infer A, infer B, infer R> ? { tap(fn: TapFn<A, B, R>, opts?: TapOptions): void }
  : H extends NotifyHook<infer A, infer B> ? { tap(fn: NotifyFn<A, B>, opts?: TapOptions): void }
  : never;

/** The tap-only facade handed to `register` (tapable's "withOptions" idea). */
export type PluginHooks = { readonly [G in keyof Hooks]: { readonly [K in keyof Hooks[G]]: TapView<Hooks[G][K]> } };

export interface PluginServices {
  provide<T>(key: ServiceKey<T>, value: T): void;
  /** The service; throws naming it when no enabled plugin provides it. */
  get<T>(key: ServiceKey<T>): T;
  find<T>(key: ServiceKey<T>): T | undefined;
}

export interface PluginContext<C> {
  /** The plugin's name: folder, config key and `plugin` log field. */
  readonly name: string;
  /** The plugin's validated, frozen config section. */
  readonly config: Readonly<C>;
  readonly log: Logger;
  readonly clock: Clock;
  readonly kv: KeyValueStore;
  readonly dns: DnsResolver;
  readonly metrics: Metrics;
  readonly services: PluginServices;
  readonly server: { readonly hostname: string; readonly dataDir: string };
  /** Resolve a path from config: absolute paths stay, relative ones are taken from the data directory. */
  resolvePath(p: string): string;
  /** Aborted when the plugin is disposed (reload or stop). */
  readonly signal: AbortSignal;
  /**
   * Hooks a plugin may CALL because it drives that stage itself: the outbound engine asks
   * outbound.route, outbound.tlsPolicy and outbound.beforeAttempt for each destination. Every
   * other hook is called by the core only.
   */
  readonly drives: { readonly outbound: Pick<Hooks['outbound'], 'route' | 'tlsPolicy' | 'beforeAttempt'> };
}

/** What a plugin's CLI commands get: no hooks, no services, the plugin's own config. */
export interface PluginCliContext<C> {
  readonly name: string;
  readonly config: Readonly<C>;
  readonly server: { readonly hostname: string; readonly dataDir: string };
  resolvePath(p: string): string;
  /** A resolver set up from the root `dns` config, as the server would use. */
  dns(): DnsResolver;
}

/** Commands a plugin's `cli` may add subcommands to (besides the top-level program). */
export interface CliParents {
  /** `pochta doctor`: checks of this server's standing (dnsbl adds `blacklists`). */
  readonly doctor: Command;
}

export type Dispose = () => Promise<void> | void;

export interface PluginDefinition<S extends z.ZodType = z.ZodType> {
  /** = folder = config key = log field. */
  name: string;
  /** One line, shown by `pochta hooks` and in docs. */
  description: string;
  /** The plugin's config section; defaults and descriptions live here. */
  config: S;
  /** Plugins that must be enabled (and run earlier) for this one to work; checked at boot. */
  dependencies?: readonly string[];
  /** Tap hooks, provide services; return a dispose function for what it opened. */
  register(hooks: PluginHooks, ctx: PluginContext<z.output<S>>): Promise<Dispose | void> | Dispose | void;
  /** Optional CLI subcommands (e.g. auth-file adds `pochta user`). */
  cli?(program: Command, ctx: () => Promise<PluginCliContext<z.output<S>>>, parents: CliParents): void;
}

/** Identity helper that gives a plugin definition its types. */
export function definePlugin<S extends z.ZodType>(def: PluginDefinition<S>): PluginDefinition<S> {
  return def;
}
