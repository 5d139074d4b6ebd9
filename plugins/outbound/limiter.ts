/** A counting semaphore: at most `limit` holders; waiters are served in order. */
export class Semaphore {
  #held = 0;
  readonly #waiters: Array<() => void> = [];
  constructor(readonly limit: number) {}

  get held(): number {
    return this.#held;
  }

  /** Resolves to a release function; rejects when the signal aborts while waiting. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    const grant = (): (() => void) => {
      this.#held++;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        this.#held--;
        this.#waiters.shift()?.();
      };
    };
    if (this.#held < this.limit) return Promise.resolve(grant());
    return new Promise((resolve, reject) => {
      const wake = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(grant());
      };
      const onAbort = () => {
        const i = this.#waiters.indexOf(wake);
        if (i >= 0) this.#waiters.splice(i, 1);
        reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(wake);
    });
  }
}

/**
 * Concurrency caps: one semaphore for all destinations, one per destination (made on first use,
 * dropped when idle so the map does not grow with every domain ever seen).
 */
export class DestinationLimiter {
  readonly #total: Semaphore;
  readonly #perDest = new Map<string, Semaphore>();
  constructor(total: number, readonly perDestination: number) {
    this.#total = new Semaphore(total);
  }

  async acquire(destination: string, signal?: AbortSignal): Promise<() => void> {
    let sem = this.#perDest.get(destination);
    if (!sem) this.#perDest.set(destination, (sem = new Semaphore(this.perDestination)));
    const releaseDest = await sem.acquire(signal);
    let releaseTotal: () => void;
    try {
      releaseTotal = await this.#total.acquire(signal);
    } catch (err) {
      releaseDest();
      throw err;
    }
    return () => {
      releaseTotal();
      releaseDest();
      if (sem.held === 0 && this.#perDest.get(destination) === sem) this.#perDest.delete(destination);
    };
  }

  /** Connections in use, all destinations together. */
  get active(): number {
    return this.#total.held;
  }
}
