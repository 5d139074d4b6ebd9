/**
 * The head-reading worker thread, seen from the session's thread: batches of message files go in,
 * header-only summaries and ENVELOPE bytes come out (head-worker.ts). A cold whole-folder FETCH
 * ENVELOPE then spends the event loop on copying results out, while file reads and header parsing
 * run beside it (two cores: the FETCH takes about the time of the slower side, not the sum).
 *
 * Started ahead of use (loading the worker costs a few hundred ms of CPU, not something a first
 * FETCH should wait for); until it is ready, or after it failed, callers read on their own thread
 * (`read` answers undefined). A failed or hung worker is not restarted: everything still works
 * without it. Each request is bounded in time.
 */
import { Worker } from 'node:worker_threads';
import type { HeadReply, HeadRequest } from './head-worker.ts';

/** A batch the worker has not answered by then is given up (and the worker with it). */
const REPLY_TIMEOUT_MS = 10_000;

interface Waiter {
  readonly resolve: (r: HeadReply | undefined) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * The worker's first code. From TypeScript source it runs through tsx like this process, registered
 * in the worker itself (a loader registered by this thread is not inherited); from a build (.js), directly.
 */
function bootCode(): string {
  if (import.meta.url.endsWith('.js')) return `import(${JSON.stringify(new URL('./head-worker.js', import.meta.url).href)})`;
  const api = import.meta.resolve('tsx/esm/api');
  const body = new URL('./head-worker.ts', import.meta.url).href;
  return `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(body)}); })`;
}

export class HeadReader {
  #worker: Worker | undefined;
  #ready = false;
  #seq = 0;
  readonly #waiting = new Map<number, Waiter>();
  /** Resolves true once loaded, false if it failed first. */
  readonly #loaded: Promise<boolean>;
  #settle: (ok: boolean) => void = () => undefined;

  constructor() {
    this.#loaded = new Promise((resolve) => (this.#settle = resolve));
    let w: Worker;
    try {
      w = new Worker(bootCode(), { eval: true });
    } catch {
      this.#settle(false); // no worker: heads are read on the caller's thread
      return;
    }
    w.unref(); // never what keeps the process alive
    w.on('message', (m: HeadReply | { ready: true }) => {
      if ('ready' in m) {
        this.#ready = true;
        this.#settle(true);
        return;
      }
      const waiter = this.#waiting.get(m.id);
      if (!waiter) return;
      this.#waiting.delete(m.id);
      clearTimeout(waiter.timer);
      waiter.resolve(m.error === undefined ? m : undefined);
    });
    w.on('error', () => void this.#fail());
    w.on('exit', () => void this.#fail());
    this.#worker = w;
  }

  /** True once the worker has loaded and while it works. */
  get ready(): boolean {
    return this.#ready && this.#worker !== undefined;
  }

  /** Waits (at most `timeoutMs`) until the worker has loaded; false when it has not or failed. */
  async whenReady(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
    try {
      return await Promise.race([this.#loaded, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Reads and parses a batch on the worker; undefined when the worker is not (or no longer) there:
   * the caller reads on its own thread.
   */
  read(paths: readonly (string | null)[], sizes: readonly number[], length: number): Promise<HeadReply | undefined> {
    const w = this.#worker;
    if (!w || !this.#ready) return Promise.resolve(undefined);
    const id = ++this.#seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
        void this.#fail();
      }, REPLY_TIMEOUT_MS);
      timer.unref();
      this.#waiting.set(id, { resolve, timer });
      const req: HeadRequest = { id, paths, sizes, length };
      w.postMessage(req);
    });
  }

  /** Stops the worker (server shutdown); waiting batches answer undefined. */
  async close(): Promise<void> {
    await this.#fail();
  }

  #fail(): Promise<unknown> {
    const w = this.#worker;
    this.#worker = undefined;
    this.#ready = false;
    this.#settle(false);
    for (const waiter of this.#waiting.values()) {
      clearTimeout(waiter.timer);
      waiter.resolve(undefined);
    }
    this.#waiting.clear();
    return w ? w.terminate().catch(() => undefined) : Promise.resolve();
  }
}
