import type { SpoolEnvelope } from './envelope.ts';
import { displayState, type DisplayState } from './policy.ts';
import { bounceAll } from './runner.ts';
import type { Spool } from './spool.ts';
import { QUEUE_ID } from './ids.ts';

/**
 * What `pochta queue` works with, the same whether a server runs (its QueueRunner answers over the
 * control socket) or not (the spool files are read and changed directly).
 */
export interface QueueRowRecipient {
  readonly address: string;
  /** Where it goes: the local user, or the remote address. */
  readonly target: string;
  readonly state: DisplayState;
  readonly attempts: number;
  readonly nextAttemptAt?: number;
  readonly lastError?: string;
}

export interface QueueRow {
  readonly id: string;
  readonly receivedAt: number;
  readonly size: number;
  readonly from: string;
  readonly recipients: readonly QueueRowRecipient[];
}

export interface QueueStats {
  messages: number;
  recipients: number;
  states: Record<DisplayState, number>;
  oldest?: number;
}

export interface QueueAdmin {
  list(): AsyncIterable<QueueRow>;
  show(id: string): Promise<{ row: QueueRow; bodyPath: string } | undefined>;
  retry(id: string): Promise<boolean>;
  retryAll(): Promise<number>;
  delete(id: string): Promise<boolean>;
  bounce(id: string): Promise<boolean>;
  stats(): Promise<QueueStats>;
  /** Hold remote delivery (kept across restarts) until `release`. */
  hold(): Promise<void>;
  /** Lift the hold; how many messages were waiting for it (0 on a stopped server: they are due at start). */
  release(): Promise<number>;
  held(): Promise<boolean>;
}

export function toRow(env: SpoolEnvelope, now: number, inFlight: boolean): QueueRow {
  return {
    id: env.id,
    receivedAt: env.receivedAt,
    size: env.size,
    from: env.mailFrom.address,
    recipients: env.recipients.map((r) => ({
      address: r.address,
      target: r.target.kind === 'local' ? `local:${r.target.user}${r.target.folder ? `/${r.target.folder}` : ''}` : r.target.address,
      state: displayState(r, now, inFlight),
      attempts: r.attempts,
      ...(r.state === 'pending' && r.nextAttemptAt !== undefined && r.nextAttemptAt > now ? { nextAttemptAt: r.nextAttemptAt } : {}),
      ...(r.lastError ? { lastError: r.lastError } : {}),
    })),
  };
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/** Read-side of the admin over the spool files, shared by both modes. */
export class SpoolReader {
  constructor(
    protected readonly spool: Spool,
    protected readonly now: () => number,
    protected readonly inFlight: () => ReadonlySet<string> = () => new Set(),
    protected readonly owns: (id: string) => boolean = () => true,
  ) {}

  async read(id: string): Promise<SpoolEnvelope | undefined> {
    if (!QUEUE_ID.test(id) || !this.owns(id)) return undefined;
    try {
      return await this.spool.readEnvelope(id);
    } catch (err) {
      if (missing(err)) return undefined;
      throw err;
    }
  }

  /** Sorted by id, which is arrival order. Envelopes are read one at a time. */
  async *list(): AsyncIterable<QueueRow> {
    const ids: string[] = [];
    for await (const id of this.spool.ids()) if (this.owns(id)) ids.push(id);
    ids.sort();
    for (const id of ids) {
      const env = await this.read(id);
      if (env) yield toRow(env, this.now(), this.inFlight().has(id));
    }
  }

  async show(id: string): Promise<{ row: QueueRow; bodyPath: string } | undefined> {
    const env = await this.read(id);
    return env ? { row: toRow(env, this.now(), this.inFlight().has(id)), bodyPath: this.spool.bodyPath(id) } : undefined;
  }

  async held(): Promise<boolean> {
    return this.spool.isHeld();
  }

  async stats(): Promise<QueueStats> {
    const s: QueueStats = { messages: 0, recipients: 0, states: { pending: 0, 'in-flight': 0, deferred: 0, delivered: 0, bounced: 0 } };
    for await (const row of this.list()) {
      s.messages++;
      s.oldest = Math.min(s.oldest ?? Infinity, row.receivedAt);
      for (const r of row.recipients) {
        s.recipients++;
        s.states[r.state]++;
      }
    }
    return s;
  }
}

/** The admin of a stopped server: changes the spool files directly (no server races with it). */
export class OfflineQueueAdmin extends SpoolReader implements QueueAdmin {
  /** Due at the next start: the schedule hint goes first, so the message is read at once then. */
  async retry(id: string): Promise<boolean> {
    const env = await this.read(id);
    if (!env) return false;
    await this.spool.removeHints(id);
    delete env.hintAt;
    for (const r of env.recipients) if (r.state === 'pending') delete r.nextAttemptAt;
    await this.spool.updateEnvelope(env);
    return true;
  }

  async retryAll(): Promise<number> {
    let n = 0;
    const ids: string[] = [];
    for await (const id of this.spool.ids()) if (this.owns(id)) ids.push(id);
    for (const id of ids) if (await this.retry(id)) n++;
    return n;
  }

  async delete(id: string): Promise<boolean> {
    const env = await this.read(id);
    if (!env) return false;
    await this.spool.remove(id);
    await this.spool.removeHints(id);
    return true;
  }

  async hold(): Promise<void> {
    await this.spool.setHeld(true);
  }

  async release(): Promise<number> {
    await this.spool.setHeld(false);
    return 0;
  }

  /** The failure notices are sent by the server at its next start (the envelope says none was yet). */
  async bounce(id: string): Promise<boolean> {
    const env = await this.read(id);
    if (!env) return false;
    await this.spool.removeHints(id);
    delete env.hintAt;
    bounceAll(env, this.now());
    await this.spool.updateEnvelope(env);
    return true;
  }
}

/** What the live admin needs of the running scheduler. */
export interface LiveQueue {
  inFlight(): ReadonlySet<string>;
  retry(id: string): Promise<boolean>;
  retryAll(): number;
  delete(id: string): Promise<boolean>;
  bounce(id: string): Promise<boolean>;
  hold(): Promise<void>;
  release(): Promise<number>;
}

/** The admin of a running server: reads the spool, changes go through its scheduler (no races with deliveries). */
export class LiveQueueAdmin extends SpoolReader implements QueueAdmin {
  constructor(private readonly queue: LiveQueue, spool: Spool, now: () => number, owns?: (id: string) => boolean) {
    super(spool, now, () => queue.inFlight(), owns);
  }

  async retry(id: string): Promise<boolean> {
    return QUEUE_ID.test(id) && this.owns(id) && this.queue.retry(id);
  }

  async retryAll(): Promise<number> {
    return this.queue.retryAll();
  }

  async delete(id: string): Promise<boolean> {
    return QUEUE_ID.test(id) && this.owns(id) && this.queue.delete(id);
  }

  async bounce(id: string): Promise<boolean> {
    return QUEUE_ID.test(id) && this.owns(id) && this.queue.bounce(id);
  }

  hold(): Promise<void> {
    return this.queue.hold();
  }

  release(): Promise<number> {
    return this.queue.release();
  }
}
