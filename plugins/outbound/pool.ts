import type { SmtpClient } from './client.ts';

/**
 * Idle connections kept for reuse, keyed by where they go and how (address, port, host name,
 * TLS policy, AUTH user): a connection is only reused for a job that would have opened the same
 * one. Each is closed after `idleMs` unused or after `maxMessages` messages.
 */
export class ConnectionPool {
  readonly #idle = new Map<string, Array<{ client: SmtpClient; timer: NodeJS.Timeout }>>();
  #closed = false;
  constructor(readonly opts: { maxMessages: number; idleMs: number }) {}

  take(key: string): SmtpClient | undefined {
    const list = this.#idle.get(key);
    while (list?.length) {
      const e = list.pop()!;
      clearTimeout(e.timer);
      if (!list.length) this.#idle.delete(key);
      if (e.client.usable) return e.client;
    }
    return undefined;
  }

  /** Hand a connection back after a job; it is closed instead when it cannot be reused. */
  give(key: string, client: SmtpClient): void {
    if (this.#closed || !client.usable || client.messages >= this.opts.maxMessages || this.opts.idleMs === 0) {
      client.close();
      return;
    }
    const list = this.#idle.get(key) ?? [];
    const entry = {
      client,
      timer: setTimeout(() => {
        const i = list.indexOf(entry);
        if (i >= 0) list.splice(i, 1);
        if (!list.length && this.#idle.get(key) === list) this.#idle.delete(key);
        client.close();
      }, this.opts.idleMs),
    };
    entry.timer.unref();
    list.push(entry);
    this.#idle.set(key, list);
  }

  get idleCount(): number {
    let n = 0;
    for (const l of this.#idle.values()) n += l.length;
    return n;
  }

  closeAll(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) {
      for (const e of list) {
        clearTimeout(e.timer);
        e.client.close();
      }
    }
    this.#idle.clear();
  }
}
