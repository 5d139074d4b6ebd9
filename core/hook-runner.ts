import { AsyncSeriesBailHook, AsyncSeriesHook } from 'tapable';
import { lazyLogger, type Logger } from './log.ts';
import type { Metrics } from './metrics.ts';

/**
 * The hook runner: every tap a plugin adds goes through `wrap`, which gives it an AbortSignal and
 * a time budget, turns a throw, a timeout or a malformed answer into the hook's failure value (a
 * temporary failure: a 4xx for SMTP), folds `null` into "no opinion", records timing, and counts
 * errors. A plugin bug can therefore never crash the process, hang a session, or let a message
 * skip a check: the chain stops with a tempfail instead.
 */

export interface TapContext {
  /** Aborted when the tap's time budget runs out or the server stops. */
  readonly signal: AbortSignal;
  /** The plugin's logger, bound to the session or transaction when there is one. */
  readonly log: Logger;
}

export type TapResult<R> = R | null | undefined | void;
export type TapFn<A, B, R> = (a: A, b: B, t: TapContext) => Promise<TapResult<R>> | TapResult<R>;
export type NotifyFn<A, B> = (a: A, b: B, t: TapContext) => Promise<void> | void;

export interface TapOptions {
  /** Lower runs first; see STAGE. Within a stage, config order. */
  stage?: number;
  /** Run before the named plugin(s) taps on this hook. */
  before?: string | string[];
}

/** Who is tapping: the plugin host makes one per plugin. */
export interface TapOwner {
  readonly name: string;
  readonly timeoutMs: number;
  readonly log: Logger;
  /** Aborted when the plugin is disposed (reload, stop). */
  readonly signal: AbortSignal;
}

export interface TraceEntry {
  hook: string;
  plugin: string;
  ms: number;
  /** 'none' (no opinion), 'error', 'timeout', or the verdict kind. */
  outcome: string;
}

/** Passed with each call so timings land on the session or transaction being served. */
export interface CallTrace {
  readonly log?: Logger;
  record?(entry: TraceEntry): void;
}

export interface HookSpec<R> {
  name: string;
  doc: string;
  /** Checks a tap's answer; returns a problem description, or undefined when it is fine. */
  validate(value: unknown): string | undefined;
  /** What a failed tap (throw, timeout, bad answer) turns into. */
  onError(kind: 'error' | 'timeout', plugin: string): R;
}

export interface HookEnv {
  metrics: Metrics;
}

export interface TapInfo {
  plugin: string;
  stage: number;
}

const TIMEOUT = Symbol('timeout');

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The context a tap receives. Its AbortSignal and its child logger are made on first use: most
 * taps never touch them, and building both for every call was a measurable share of the CPU
 * spent per message.
 */
class LazyTapContext implements TapContext {
  #ac?: AbortController;
  #log?: Logger;
  #reason?: unknown;
  #unlisten?: () => void;
  /** `trace.log` is read only when the tap logs: the session's or transaction's logger is made lazily too. */
  constructor(private readonly owner: TapOwner, private readonly trace: CallTrace | undefined) {}

  get signal(): AbortSignal {
    if (!this.#ac) {
      const ac = (this.#ac = new AbortController());
      const owner = this.owner.signal;
      if (this.#reason !== undefined) ac.abort(this.#reason);
      else if (owner.aborted) ac.abort(owner.reason);
      else {
        const onOwnerAbort = () => ac.abort(owner.reason);
        owner.addEventListener('abort', onOwnerAbort, { once: true });
        this.#unlisten = () => owner.removeEventListener('abort', onOwnerAbort);
      }
    }
    return this.#ac.signal;
  }

  /**
   * A logger bound to the plugin. The pino child is made only when a line at an enabled level is
   * written: taps log at debug on every call, and a child per call is costly.
   */
  get log(): Logger {
    const { owner, trace } = this;
    // The plugin's logger has the level every child of the root has.
    return (this.#log ??= lazyLogger(() => (trace?.log ?? owner.log).child({ plugin: owner.name }), owner.log));
  }

  abort(reason: unknown): void {
    this.#reason = reason;
    this.#ac?.abort(reason);
  }

  /** The call is over: stop listening on the plugin's own signal (no leak per call). */
  done(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }
}

const isThenable = (v: unknown): v is PromiseLike<unknown> =>
  v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/** An asynchronous answer, raced against the tap's time budget (the timer aborts the tap). */
function withBudget<T>(owner: TapOwner, ctx: LazyTapContext, pending: PromiseLike<T>): Promise<T | typeof TIMEOUT> {
  return new Promise<T | typeof TIMEOUT>((resolve, reject) => {
    const timer = setTimeout(() => {
      ctx.abort(new Error(`plugin ${owner.name} timed out after ${owner.timeoutMs} ms`));
      resolve(TIMEOUT);
    }, owner.timeoutMs);
    pending.then((v) => {
      clearTimeout(timer);
      resolve(v);
    }, (err: unknown) => {
      clearTimeout(timer);
      // Passed on as thrown: runTap logs and describes whatever a plugin rejected with.
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
      reject(err);
    });
  });
}

function failTap(kind: 'error' | 'timeout', hook: string, owner: TapOwner, env: HookEnv, ctx: LazyTapContext, fields: Record<string, unknown>, msg: string): { failed: 'error' | 'timeout' } {
  env.metrics.inc(kind === 'timeout' ? 'hook_timeouts_total' : 'hook_errors_total', { hook, plugin: owner.name });
  ctx.log.error({ hook, ...fields }, msg);
  return { failed: kind };
}

/**
 * Runs one tap under its budget. Failures (throw, timeout, an answer `judge` finds malformed) are
 * logged and counted here, and the timing lands in the caller's trace; the hook decides what a
 * failure means for its chain. A tap that answers synchronously needs no timer: it can no longer
 * be late (most taps return early for sessions they do not apply to; this is their fixed cost).
 */
async function runTap<A, B, T>(
  hook: string,
  owner: TapOwner,
  env: HookEnv,
  trace: CallTrace | undefined,
  run: (a: A, b: B, ctx: TapContext) => Promise<T> | T,
  a: A,
  b: B,
  judge: (value: T) => { outcome: string; problem?: string },
): Promise<{ value: T } | { failed: 'error' | 'timeout' }> {
  const ctx = new LazyTapContext(owner, trace);
  const started = performance.now();
  let outcome = 'none';
  try {
    const out = run(a, b, ctx);
    const value = isThenable(out) ? await withBudget(owner, ctx, out) : out;
    if (value === TIMEOUT) {
      outcome = 'timeout';
      return failTap('timeout', hook, owner, env, ctx, { event: 'hook.timeout', budgetMs: owner.timeoutMs }, 'plugin timed out');
    }
    const j = judge(value);
    if (j.problem) {
      outcome = 'error';
      return failTap('error', hook, owner, env, ctx, { event: 'hook.bad_answer', problem: j.problem }, 'plugin gave a malformed answer');
    }
    outcome = j.outcome;
    return { value };
  } catch (err) {
    outcome = 'error';
    return failTap('error', hook, owner, env, ctx, { event: 'hook.error', err }, `plugin failed: ${describe(err)}`);
  } finally {
    ctx.done();
    trace?.record?.({ hook, plugin: owner.name, ms: Math.round((performance.now() - started) * 1000) / 1000, outcome });
  }
}

abstract class BaseHook {
  readonly #taps: TapInfo[] = [];
  constructor(readonly name: string, readonly doc: string, protected readonly env: HookEnv) {}

  protected noteTap(plugin: string, stage: number): void {
    this.#taps.push({ plugin, stage });
  }

  /** Plugins tapping this hook, in run order. */
  taps(): TapInfo[] {
    return this.orderedNames().map((plugin) => this.#taps.find((t) => t.plugin === plugin)!);
  }

  protected abstract orderedNames(): string[];

  protected tapName(opts: TapOptions | undefined, plugin: string) {
    const stage = opts?.stage ?? 0;
    // tapable accepts an array for `before` at run time; its typings say string only.
    return { name: plugin, stage, ...(opts?.before ? { before: opts.before as string } : {}) };
  }
}

/** A bail hook: taps run in order, the first answer ends the chain. */
export class VerdictHook<A, B, R> extends BaseHook {
  readonly #hook: AsyncSeriesBailHook<[A, B, CallTrace | undefined], R | undefined>;
  readonly #spec: HookSpec<R>;

  constructor(spec: HookSpec<R>, env: HookEnv) {
    super(spec.name, spec.doc, env);
    this.#spec = spec;
    this.#hook = new AsyncSeriesBailHook(['a', 'b', 'trace']);
  }

  tap(owner: TapOwner, fn: TapFn<A, B, R>, opts?: TapOptions): void {
    const spec = this.#spec;
    this.noteTap(owner.name, opts?.stage ?? 0);
    const judge = (value: TapResult<R>) => {
      if (value === undefined || value === null) return { outcome: 'none' };
      const problem = spec.validate(value);
      return problem ? { outcome: 'error', problem } : { outcome: (value as { kind?: string }).kind ?? 'answer' };
    };
    this.#hook.tapPromise(this.tapName(opts, owner.name), async (a, b, trace) => {
      const r = await runTap(this.name, owner, this.env, trace, fn, a, b, judge);
      if ('failed' in r) return spec.onError(r.failed, owner.name);
      // null means "no opinion" too (tapable would bail on it).
      return r.value ?? undefined;
    });
  }

  /** Run the chain; undefined when no tap answered. */
  async call(a: A, b: B, trace?: CallTrace): Promise<R | undefined> {
    if (this.#hook.taps.length === 0) return undefined;
    return this.#hook.promise(a, b, trace);
  }

  protected orderedNames(): string[] {
    return this.#hook.taps.map((t) => t.name);
  }
}

const judgeDone = () => ({ outcome: 'done' });

/** A notification hook: every tap runs, in order; failures are logged and counted, never propagated. */
export class NotifyHook<A, B> extends BaseHook {
  readonly #hook: AsyncSeriesHook<[A, B, CallTrace | undefined]>;

  constructor(name: string, doc: string, env: HookEnv) {
    super(name, doc, env);
    this.#hook = new AsyncSeriesHook(['a', 'b', 'trace']);
  }

  tap(owner: TapOwner, fn: NotifyFn<A, B>, opts?: TapOptions): void {
    this.noteTap(owner.name, opts?.stage ?? 0);
    this.#hook.tapPromise(this.tapName(opts, owner.name), async (a, b, trace) => {
      await runTap(this.name, owner, this.env, trace, fn, a, b, judgeDone);
    });
  }

  async call(a: A, b: B, trace?: CallTrace): Promise<void> {
    if (this.#hook.taps.length === 0) return;
    await this.#hook.promise(a, b, trace);
  }

  protected orderedNames(): string[] {
    return this.#hook.taps.map((t) => t.name);
  }
}
