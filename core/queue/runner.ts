import type { Clock } from '../clock.ts';
import type { Hooks } from '../hooks.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import { headerPrefix, removedHeaders } from './compose.ts';
import { isFinal, type SpoolEnvelope, type SpoolRecipient } from './envelope.ts';
import type { Spool } from './spool.ts';
import type { LocalDelivery } from './types.ts';
import type { MessageBody } from './body.ts';

export interface RunnerOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAgeMs: number;
}

/**
 * Delivers spooled messages to their local recipients through the `delivery.local` hook, with
 * retries on a doubling backoff. Remote recipients stay pending for the outbound scheduler.
 * Owned by the server instance; `stop()` waits for deliveries in flight.
 */
export class QueueRunner {
  readonly #ready: string[] = [];
  /** Envelopes handed over with enqueue (just committed): no need to read them back from disk. */
  readonly #known = new Map<string, SpoolEnvelope>();
  /** Resumed at start: local recipients are tried at once, whatever their next attempt time (a restart often fixed the cause). */
  readonly #dueNow = new Set<string>();
  readonly #queued = new Set<string>();
  readonly #inFlight = new Map<string, Promise<void>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(
    private readonly spool: Spool,
    private readonly hooks: () => Hooks,
    private readonly opts: RunnerOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
  ) {}

  /** Resume everything pending in the spool (at start). */
  async resume(owns?: (id: string) => boolean): Promise<number> {
    const { ids, orphans, corrupt } = await this.spool.recover(owns);
    if (orphans) this.log.info({ event: 'queue.orphans_removed', count: orphans }, 'removed message bodies that were never acknowledged');
    for (const id of corrupt) this.log.error({ event: 'queue.corrupt', queueId: id }, 'envelope without a body; left in place for inspection');
    for (const id of ids) {
      this.#dueNow.add(id);
      this.enqueue(id);
    }
    if (ids.length) this.log.info({ event: 'queue.resumed', count: ids.length }, 'resumed pending messages');
    return ids.length;
  }

  enqueue(id: string, env?: SpoolEnvelope): void {
    if (this.#stopped) return;
    if (env) this.#known.set(id, env);
    if (this.#queued.has(id)) return;
    const t = this.#timers.get(id);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(id);
    }
    this.#queued.add(id);
    this.#ready.push(id);
    this.#pump();
  }

  /** Messages waiting or being delivered right now. */
  get size(): number {
    return this.#queued.size + this.#inFlight.size;
  }

  #pump(): void {
    while (!this.#stopped && this.#inFlight.size < this.opts.concurrency && this.#ready.length) {
      const id = this.#ready.shift()!;
      this.#queued.delete(id);
      if (this.#inFlight.has(id)) {
        // Already running: look again when it finishes.
        void this.#inFlight.get(id)!.then(() => this.enqueue(id));
        continue;
      }
      const p = this.#process(id)
        .catch((err) => {
          this.log.error({ event: 'queue.error', queueId: id, err }, 'queue processing failed; retrying later');
          this.#schedule(id, this.clock.now() + this.opts.retryBaseMs);
        })
        .finally(() => {
          this.#inFlight.delete(id);
          this.#pump();
        });
      this.#inFlight.set(id, p);
    }
  }

  #schedule(id: string, at: number): void {
    if (this.#stopped) return;
    const old = this.#timers.get(id);
    if (old) clearTimeout(old);
    const delay = Math.max(0, at - this.clock.now());
    // setTimeout caps at 2^31-1 ms; a longer wait just re-checks.
    const t = setTimeout(() => {
      this.#timers.delete(id);
      this.enqueue(id);
    }, Math.min(delay, 2 ** 31 - 1));
    t.unref();
    this.#timers.set(id, t);
  }

  #backoff(attempts: number): number {
    return Math.min(this.opts.retryMaxMs, this.opts.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  }

  async #process(id: string): Promise<void> {
    const env = this.#known.get(id) ?? (await this.spool.readEnvelope(id));
    this.#known.delete(id);
    const now = this.clock.now();
    const dueNow = this.#dueNow.delete(id);
    let changed = false;
    for (const r of env.recipients) {
      if (isFinal(r) || r.target.kind !== 'local') continue;
      if (!dueNow && (r.nextAttemptAt ?? 0) > now) continue;
      await this.#deliverLocal(env, r);
      changed = true;
    }
    if (env.recipients.every(isFinal)) {
      await this.spool.remove(id);
      this.log.debug({ event: 'queue.done', queueId: id }, 'all recipients final');
      return;
    }
    if (changed) await this.spool.updateEnvelope(env);
    const next = env.recipients
      .filter((r) => !isFinal(r) && r.target.kind === 'local')
      .map((r) => r.nextAttemptAt ?? now);
    if (next.length) this.#schedule(id, Math.min(...next));
  }

  /**
   * Deliver every recipient now, while the SMTP client waits for its reply, when all of them
   * are local. True when every one was delivered: their Maildir copies are fsynced, so the
   * message needs no spool entry at all (fewer writes and fsyncs per message). Otherwise the
   * caller spools the envelope, states included, and the runner takes over.
   */
  async deliverInline(env: SpoolEnvelope, body: MessageBody): Promise<boolean> {
    if (this.#stopped || !env.recipients.every((r) => r.target.kind === 'local')) return false;
    for (const r of env.recipients) await this.#deliverLocal(env, r, body);
    return env.recipients.every((r) => r.state === 'delivered');
  }

  async #deliverLocal(env: SpoolEnvelope, r: SpoolRecipient, body: MessageBody = { kind: 'file', path: this.spool.bodyPath(env.id) }): Promise<void> {
    if (r.target.kind !== 'local') return;
    const job: LocalDelivery = {
      queueId: env.id,
      mailFrom: env.mailFrom.address,
      recipient: r.address,
      user: r.target.user,
      ...(r.target.folder ? { folder: r.target.folder } : env.quarantine ? { folder: 'Junk' } : {}),
      headerPrefix: headerPrefix(env.headerEdits),
      removeHeaders: removedHeaders(env.headerEdits),
      body,
      size: env.size,
    };
    const log = this.log.child({ queueId: env.id });
    r.attempts++;
    const result = (await this.hooks().delivery.local.call(job, {}, { log })) ?? { kind: 'tempfail' as const, reason: 'no plugin delivers local mail (enable maildir)' };
    const now = this.clock.now();
    const event = { queueId: env.id, recipient: r.address };
    if (result.kind === 'delivered') {
      r.state = 'delivered';
      r.doneAt = now;
      delete r.lastError;
      this.metrics.inc('delivery_total', { result: 'delivered' });
      log.info({ event: 'delivery.delivered', rcpt: r.address, user: r.target.user, detail: result.detail }, 'delivered');
      await this.hooks().delivery.delivered.call({ ...event, ...(result.detail ? { detail: result.detail } : {}) }, {});
    } else if (result.kind === 'permfail' || now - env.receivedAt > this.opts.maxAgeMs) {
      r.state = 'failed';
      r.doneAt = now;
      r.lastError = result.kind === 'permfail' ? result.reason : `gave up after ${r.attempts} attempts: ${result.reason}`;
      this.metrics.inc('delivery_total', { result: 'failed' });
      log.error({ event: 'delivery.failed', rcpt: r.address, reason: r.lastError }, 'delivery failed permanently');
      await this.hooks().delivery.failed.call({ ...event, detail: r.lastError }, {});
    } else {
      r.lastError = result.reason;
      r.nextAttemptAt = now + this.#backoff(r.attempts);
      this.metrics.inc('delivery_total', { result: 'deferred' });
      log.warn({ event: 'delivery.deferred', rcpt: r.address, reason: result.reason, retryAt: new Date(r.nextAttemptAt).toISOString() }, 'delivery deferred');
      await this.hooks().delivery.deferred.call({ ...event, detail: result.reason }, {});
    }
  }

  /** Stop taking work and wait for deliveries in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#ready.length = 0;
    this.#queued.clear();
    this.#known.clear();
    this.#dueNow.clear();
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}
