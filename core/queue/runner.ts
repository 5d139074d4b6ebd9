import type { Clock } from '../clock.ts';
import type { Hooks } from '../hooks.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { ServiceKey } from '../services.ts';
import type { MessageBody } from './body.ts';
import { headerPrefix, removedHeaders } from './compose.ts';
import { isFinal, type SpoolEnvelope, type SpoolRecipient } from './envelope.ts';
import type { DeliveryNotifier } from './notify-port.ts';
import { backoff, isDue, noticeRecipient, owedNotice, wantsNotice, type DueContext, type NoticeKind } from './policy.ts';
import { REMOTE_DELIVERY, type RemoteJob, type RemoteOutcome, type RemoteResult } from './remote.ts';
import { Schedule } from './schedule.ts';
import type { Spool } from './spool.ts';
import type { InlineDelivered, LocalDelivery } from './types.ts';

export interface RunnerOptions {
  concurrency: number;
  retryBaseMs: number;
  retryMaxMs: number;
  maxAgeMs: number;
  remoteRetryBaseMs: number;
  remoteRetryMaxMs: number;
  delayWarningMs: number;
}

/** What the runner needs from the current plugin generation. */
export interface RunnerPlugins {
  readonly hooks: Hooks;
  readonly services: { find<T>(key: ServiceKey<T>): T | undefined };
}

/** Envelopes handed over by SMTP kept in memory until their first run, at most this many. */
const MAX_KNOWN = 1000;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

/**
 * The durable queue scheduler. Every queued message has one entry in a min-heap keyed by when it is
 * next due (its earliest pending recipient); one timer waits for the earliest. A due message is
 * read from disk, its due local recipients go through `delivery.local`, its due remote ones to the
 * REMOTE_DELIVERY engine (one job per message), notices owed go to the DeliveryNotifier, the new
 * per-recipient state is written atomically, and the envelope is dropped from memory again.
 * Owned by the server instance; `stop()` aborts remote attempts and waits for what is in flight.
 */
export class QueueRunner {
  readonly #schedule = new Schedule();
  /** Envelopes handed over with enqueue (just committed): no need to read them back from disk. */
  readonly #known = new Map<string, SpoolEnvelope>();
  readonly #inFlight = new Map<string, Promise<unknown>>();
  /** Asked for while in flight: run again right after. */
  readonly #again = new Set<string>();
  /** Retries asked for by an administrator: recipients last tried before this time are due. */
  readonly #forced = new Map<string, number>();
  #forcedAll = 0;
  /** Remote delivery held by the administrator (`pochta queue hold`; the spool keeps the flag). */
  #held = false;
  /** Messages with remote recipients waiting for the hold to be lifted. */
  readonly #parked = new Set<string>();
  #startedAt: number;
  #timer?: NodeJS.Timeout;
  #timerAt = Infinity;
  #stopped = false;
  readonly #abort = new AbortController();
  #notifier?: DeliveryNotifier;

  constructor(
    private readonly spool: Spool,
    private readonly plugins: () => RunnerPlugins,
    private readonly opts: RunnerOptions,
    private readonly log: Logger,
    private readonly clock: Clock,
    private readonly metrics: Metrics,
    notifier?: DeliveryNotifier,
  ) {
    this.#startedAt = clock.now();
    this.#notifier = notifier;
  }

  /** Who writes delivery status notifications (core/dsn). Without one, no notice is sent. */
  set notifier(n: DeliveryNotifier | undefined) {
    this.#notifier = n;
  }

  get notifier(): DeliveryNotifier | undefined {
    return this.#notifier;
  }

  /**
   * Rebuild the schedule from the spool (at start). Messages with a schedule hint wait for their
   * time without being read; the others are due now (their local recipients are tried at once).
   */
  async resume(owns?: (id: string) => boolean): Promise<number> {
    this.#startedAt = this.clock.now();
    this.#held = await this.spool.isHeld();
    if (this.#held) this.log.warn({ event: 'queue.held' }, 'remote delivery is held (pochta queue release lifts it)');
    const now = this.clock.now();
    const { count, waiting, orphans, corrupt } = await this.spool.recover(owns, (id, hintAt) => this.#schedule.set(id, hintAt ?? now));
    if (orphans) this.log.info({ event: 'queue.orphans_removed', count: orphans }, 'removed message bodies that were never acknowledged');
    for (const id of corrupt) this.log.error({ event: 'queue.corrupt', queueId: id }, 'envelope without a body; left in place for inspection');
    if (count) this.log.info({ event: 'queue.resumed', count, waiting }, 'resumed pending messages');
    this.#pump();
    return count;
  }

  enqueue(id: string, env?: SpoolEnvelope): void {
    if (this.#stopped) return;
    if (env && this.#known.size < MAX_KNOWN) this.#known.set(id, env);
    this.#schedule.set(id, this.clock.now());
    this.#pump();
  }

  /**
   * Hold remote delivery: attempts already handed to the engine finish; from now on remote
   * recipients wait (local ones and notices go on) until `release`. Kept across restarts.
   */
  async hold(): Promise<void> {
    await this.spool.setHeld(true);
    this.#held = true;
    this.log.warn({ event: 'queue.held' }, 'remote delivery held by the administrator');
  }

  /** Lift the hold: every message that waited for it is due now. Returns how many. */
  async release(): Promise<number> {
    await this.spool.setHeld(false);
    this.#held = false;
    const now = this.clock.now();
    const n = this.#parked.size;
    for (const id of this.#parked) {
      if (this.#inFlight.has(id)) this.#again.add(id);
      else this.#schedule.set(id, now);
    }
    this.#parked.clear();
    this.log.info({ event: 'queue.released', count: n }, 'remote delivery released');
    this.#pump();
    return n;
  }

  /** Ids being worked on right now (for `pochta queue`). */
  inFlight(): ReadonlySet<string> {
    return new Set(this.#inFlight.keys());
  }

  stats(): { scheduled: number; inFlight: number; held: number; nextDueAt?: number } {
    const next = this.#schedule.nextAt();
    return { scheduled: this.#schedule.size, inFlight: this.#inFlight.size, held: this.#parked.size, ...(Number.isFinite(next) ? { nextDueAt: next } : {}) };
  }

  #pump(): void {
    if (this.#stopped) return;
    const now = this.clock.now();
    while (this.#inFlight.size < this.opts.concurrency) {
      const id = this.#schedule.popDue(now);
      if (id === undefined) break;
      if (this.#inFlight.has(id)) {
        this.#again.add(id);
        continue;
      }
      void this.#run(id, () => this.#process(id));
    }
    this.#arm();
  }

  #run<T>(id: string, work: () => Promise<T>): Promise<T> {
    const p = work();
    const tracked = p
      .catch((err: unknown) => {
        this.log.error({ event: 'queue.error', queueId: id, err }, 'queue processing failed; retrying later');
        if (!this.#stopped) this.#schedule.set(id, this.clock.now() + this.opts.retryBaseMs);
      })
      .finally(() => {
        this.#inFlight.delete(id);
        if (this.#again.delete(id) && !this.#stopped) this.#schedule.set(id, this.clock.now());
        this.#pump();
      });
    this.#inFlight.set(id, tracked);
    return p;
  }

  /** One timer, for the earliest entry; none while every slot is busy (a finishing run pumps). */
  #arm(): void {
    const at = this.#inFlight.size >= this.opts.concurrency ? Infinity : this.#schedule.nextAt();
    if (at === this.#timerAt) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = at;
    if (at === Infinity) return;
    // setTimeout caps at 2^31-1 ms; a longer wait just looks again.
    const t = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#pump();
    }, Math.min(Math.max(0, at - this.clock.now()), 2 ** 31 - 1));
    t.unref();
    this.#timer = t;
  }

  async #load(id: string): Promise<SpoolEnvelope | undefined> {
    const known = this.#known.get(id);
    this.#known.delete(id);
    if (known) return known;
    try {
      return await this.spool.readEnvelope(id);
    } catch (err) {
      if (isMissing(err)) return undefined; // deleted meanwhile (pochta queue delete)
      throw err;
    }
  }

  async #process(id: string): Promise<void> {
    const env = await this.#load(id);
    if (!env) return;
    const ctx: DueContext = { now: this.clock.now(), startedAt: this.#startedAt, forcedAt: Math.max(this.#forcedAll, this.#forced.get(id) ?? 0) };
    this.#forced.delete(id);
    const log = this.log.child({ queueId: id });
    let changed = false;
    for (const r of env.recipients) {
      if (r.target.kind !== 'local' || !isDue(r, ctx)) continue;
      await this.#deliverLocal(env, r);
      changed = true;
    }
    const remote = this.#held ? [] : env.recipients.filter((r) => r.target.kind === 'remote' && isDue(r, ctx));
    if (remote.length) {
      await this.#deliverRemote(env, remote, log);
      changed = true;
    }
    if (await this.#sendNotices(env, log)) changed = true;
    await this.#settle(env, changed, log);
  }

  /** Persist the new state and decide when to look at the message again (or remove it). */
  async #settle(env: SpoolEnvelope, changed: boolean, log: Logger): Promise<void> {
    const now = this.clock.now();
    const open = env.recipients.filter((r) => !isFinal(r));
    const owed = Boolean(this.#notifier) && env.recipients.some((r) => owedNotice(env, r, now, this.opts.delayWarningMs) !== undefined);
    if (!open.length && !owed) {
      await this.spool.remove(env.id, env.hintAt);
      this.#schedule.delete(env.id);
      this.#parked.delete(env.id);
      log.debug({ event: 'queue.done' }, 'all recipients final');
      return;
    }
    // Held: remote recipients wait for the release, which reschedules the message (not a time).
    const held = this.#held;
    const parked = held && open.some((r) => r.target.kind === 'remote');
    let next = owed ? now + this.opts.retryBaseMs : Infinity; // the notifier failed: try it again
    for (const r of open) {
      if (!(held && r.target.kind === 'remote')) next = Math.min(next, r.nextAttemptAt ?? now);
      // A delay warning falls due between attempts (RFC 3461 §4.1 DELAY): wake for it.
      if (this.#notifier && r.attempts > 0 && !r.delayNotifiedAt && wantsNotice(env, r, 'delay')) {
        next = Math.min(next, Math.max(now, env.receivedAt + this.opts.delayWarningMs));
      }
    }
    // The hint lets a restart wait without reading the envelope: only when nothing would be due at start.
    const prev = env.hintAt;
    // While held the hint stays as it was: after a restart the message is read and parked again.
    const hint = held ? prev : !owed && next > now && open.every((r) => r.target.kind === 'remote') ? next : undefined;
    if (hint === undefined) delete env.hintAt;
    else env.hintAt = hint;
    // A hint may be early but never late: an earlier one goes in before the envelope changes, a later one after.
    const earlier = hint === undefined || prev === undefined || hint < prev;
    if (earlier) await this.spool.moveHint(env.id, hint === undefined ? prev : undefined, hint);
    if (changed || prev !== hint) await this.spool.updateEnvelope(env);
    if (!earlier) await this.spool.moveHint(env.id, undefined, hint);
    if (hint !== undefined && prev !== undefined && prev !== hint) await this.spool.moveHint(env.id, prev, undefined);
    if (this.#stopped) return;
    // Released while this message was being settled: its remote recipients are due again now.
    if (parked && !this.#held) next = Math.min(next, now);
    if (next === Infinity) this.#schedule.delete(env.id);
    else this.#schedule.set(env.id, next);
    if (parked && this.#held && !this.#parked.has(env.id)) {
      this.#parked.add(env.id);
      log.info({ event: 'queue.parked' }, 'remote delivery held: waiting for release');
    }
  }

  /**
   * Deliver every recipient now, while the SMTP client waits for its reply, when all of them are
   * local. When every one was delivered and no notice is owed (their Maildir copies are fsynced, so
   * the message needs no spool entry at all), returns the deliveries: the caller reports them in the
   * transaction's log line, not a line per recipient. Otherwise undefined, the deliveries that did
   * happen are logged here, and the caller spools the envelope, states included, for the scheduler.
   */
  async deliverInline(env: SpoolEnvelope, body: MessageBody): Promise<InlineDelivered[] | undefined> {
    if (this.#stopped || !env.recipients.every((r) => r.target.kind === 'local')) return undefined;
    const delivered: InlineDelivered[] = [];
    for (const r of env.recipients) await this.#deliverLocal(env, r, body, delivered);
    const now = this.clock.now();
    if (env.recipients.every((r) => r.state === 'delivered')
      && (!this.#notifier || env.recipients.every((r) => owedNotice(env, r, now, this.opts.delayWarningMs) === undefined))) return delivered;
    for (const d of delivered) this.log.info({ queueId: env.id, event: 'delivery.delivered', ...d }, 'delivered');
    return undefined;
  }

  /** `inline`: collect a delivery there instead of logging it (deliverInline). */
  async #deliverLocal(env: SpoolEnvelope, r: SpoolRecipient, body: MessageBody = { kind: 'file', path: this.spool.bodyPath(env.id) }, inline?: InlineDelivered[]): Promise<void> {
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
    // The lines here carry the queue id themselves; a child logger (a measurable cost per message)
    // is made only if a delivery plugin logs.
    const root = this.log;
    let child: Logger | undefined;
    const trace = { get log(): Logger { return (child ??= root.child({ queueId: env.id })); } };
    const line = { queueId: env.id, rcpt: r.address };
    const hooks = this.plugins().hooks;
    r.attempts++;
    r.lastAttemptAt = this.clock.now();
    const result = (await hooks.delivery.local.call(job, {}, trace)) ?? { kind: 'tempfail' as const, reason: 'no plugin delivers local mail (enable maildir)' };
    const now = this.clock.now();
    const event = { queueId: env.id, recipient: r.address };
    if (result.kind === 'delivered') {
      r.state = 'delivered';
      r.doneAt = now;
      r.status = '2.0.0';
      delete r.lastError;
      delete r.nextAttemptAt;
      this.metrics.inc('delivery_total', { result: 'delivered' });
      const d: InlineDelivered = { rcpt: r.address, user: r.target.user, ...(result.detail ? { detail: result.detail } : {}) };
      if (inline) inline.push(d);
      else root.info({ queueId: env.id, event: 'delivery.delivered', ...d }, 'delivered');
      await hooks.delivery.delivered.call({ ...event, ...(result.detail ? { detail: result.detail } : {}) }, {});
    } else if (result.kind === 'permfail' || now - env.receivedAt > this.opts.maxAgeMs) {
      r.state = 'failed';
      r.doneAt = now;
      r.lastError = result.kind === 'permfail' ? result.reason : `gave up after ${r.attempts} attempts: ${result.reason}`;
      r.status = result.kind === 'permfail' ? (result.reply?.enhanced ?? '5.0.0') : '4.4.7';
      if (result.kind === 'permfail' && result.reply) r.diagnostic = diagnostic(result.reply);
      this.metrics.inc('delivery_total', { result: 'failed' });
      root.error({ ...line, event: 'delivery.failed', reason: r.lastError }, 'delivery failed permanently');
      await hooks.delivery.failed.call({ ...event, detail: r.lastError }, {});
    } else {
      r.lastError = result.reason;
      r.status = '4.0.0';
      r.nextAttemptAt = now + backoff(r.attempts, this.opts.retryBaseMs, this.opts.retryMaxMs);
      this.metrics.inc('delivery_total', { result: 'deferred' });
      root.warn({ ...line, event: 'delivery.deferred', reason: result.reason, retryAt: new Date(r.nextAttemptAt).toISOString() }, 'delivery deferred');
      await hooks.delivery.deferred.call({ ...event, detail: result.reason }, {});
    }
  }

  /**
   * All due remote recipients of the message in one job: the engine routes them and groups those
   * that share a next hop into one transaction (as Postfix's qmgr does); it answers per recipient.
   */
  async #deliverRemote(env: SpoolEnvelope, rs: SpoolRecipient[], log: Logger): Promise<void> {
    const engine = this.plugins().services.find(REMOTE_DELIVERY);
    const now = this.clock.now();
    let attempt = 0;
    for (const r of rs) {
      r.attempts++;
      r.lastAttemptAt = now;
      attempt = Math.max(attempt, r.attempts);
    }
    let results: readonly RemoteResult[] = [];
    if (engine) {
      const job: RemoteJob = {
        queueId: env.id,
        mailFrom: env.mailFrom,
        recipients: rs.map((r) => ({ address: remoteAddress(r), ...(r.dsn ? { dsn: r.dsn } : {}) })),
        headerPrefix: headerPrefix(env.headerEdits),
        removeHeaders: removedHeaders(env.headerEdits),
        body: { kind: 'file', path: this.spool.bodyPath(env.id) },
        size: env.size,
        attempt,
        receivedAt: env.receivedAt,
      };
      try {
        results = await engine.deliver(job, this.#abort.signal);
      } catch (err) {
        // The contract says it never rejects; if it does, that is a temporary failure of all.
        log.error({ event: 'outbound.engine_error', err }, 'the delivery engine failed');
      }
    }
    const byAddress = new Map(results.map((x) => [x.address.toLowerCase(), x.outcome]));
    const missing: RemoteOutcome = { kind: 'tempfail', reason: engine ? 'the delivery engine gave no result' : 'no plugin delivers remote mail (enable outbound)' };
    for (const r of rs) await this.#applyRemote(env, r, byAddress.get(remoteAddress(r).toLowerCase()) ?? missing, log);
  }

  async #applyRemote(env: SpoolEnvelope, r: SpoolRecipient, o: RemoteOutcome, log: Logger): Promise<void> {
    const now = this.clock.now();
    const hooks = this.plugins().hooks;
    const rcpt = remoteAddress(r);
    const base = {
      queueId: env.id, recipient: rcpt, mailFrom: env.mailFrom.address, attempt: r.attempts,
      ...(o.mx ? { mx: o.mx } : {}), ...(o.reply ? { reply: o.reply } : {}),
    };
    if (o.mx) r.remoteMta = o.mx;
    if (o.reply) r.diagnostic = diagnostic(o.reply);
    else delete r.diagnostic;
    if (o.kind === 'delivered') {
      r.state = 'delivered';
      r.doneAt = now;
      r.status = o.reply?.enhanced ?? '2.0.0';
      if (o.dsn) r.nextHopDsn = true;
      delete r.lastError;
      delete r.nextAttemptAt;
      this.metrics.inc('outbound_total', { result: 'delivered' });
      log.info({ event: 'outbound.delivered', rcpt, mx: o.mx, attempt: r.attempts }, 'relayed to the next hop');
      await hooks.outbound.delivered.call(base, {});
      return;
    }
    const expired = now - env.receivedAt >= this.opts.maxAgeMs;
    if (o.kind === 'permfail' || expired) {
      r.state = 'failed';
      r.doneAt = now;
      // RFC 3463 §3.5: 4.4.7 is "delivery time expired" (still reported with Action: failed).
      r.status = o.kind === 'permfail' ? (o.reply?.enhanced ?? '5.0.0') : '4.4.7';
      r.lastError = o.kind === 'permfail' ? o.reason : `gave up after ${r.attempts} attempts: ${o.reason}`;
      delete r.nextAttemptAt;
      this.metrics.inc('outbound_total', { result: 'bounced' });
      log.warn({ event: 'outbound.bounced', rcpt, mx: o.mx, reason: r.lastError, attempt: r.attempts }, 'remote recipient failed for good');
      await hooks.outbound.bounced.call({ ...base, reason: r.lastError }, {});
      return;
    }
    r.lastError = o.reason;
    r.status = o.reply?.enhanced ?? '4.0.0';
    // Retries stop at maxAge: the last one is made then rather than never.
    r.nextAttemptAt = Math.min(now + backoff(r.attempts, this.opts.remoteRetryBaseMs, this.opts.remoteRetryMaxMs), env.receivedAt + this.opts.maxAgeMs);
    this.metrics.inc('outbound_total', { result: 'deferred' });
    log.info({ event: 'outbound.deferred', rcpt, mx: o.mx, reason: o.reason, attempt: r.attempts, retryAt: new Date(r.nextAttemptAt).toISOString() }, 'remote delivery deferred');
    await hooks.outbound.deferred.call({ ...base, reason: o.reason, nextAttemptAt: r.nextAttemptAt }, {});
  }

  /** Send the notices owed, one request per kind; a recipient is marked only once `send` resolved. */
  async #sendNotices(env: SpoolEnvelope, log: Logger): Promise<boolean> {
    const notifier = this.#notifier;
    if (!notifier) return false;
    const now = this.clock.now();
    const byKind = new Map<NoticeKind, SpoolRecipient[]>();
    for (const r of env.recipients) {
      const kind = owedNotice(env, r, now, this.opts.delayWarningMs);
      if (kind) byKind.set(kind, [...(byKind.get(kind) ?? []), r]);
    }
    let changed = false;
    for (const [kind, rs] of byKind) {
      try {
        await notifier.send({ kind, envelope: structuredClone(env), bodyPath: this.spool.bodyPath(env.id), recipients: rs.map((r) => noticeRecipient(env, r, kind, this.opts.maxAgeMs)) });
      } catch (err) {
        log.warn({ event: 'dsn.failed', kind, err }, 'could not queue the delivery status notification; will retry');
        continue;
      }
      for (const r of rs) {
        if (kind === 'delay') r.delayNotifiedAt = now;
        else r.notifiedAt = now;
      }
      changed = true;
      this.metrics.inc('dsn_total', { kind });
      log.info({ event: 'dsn.queued', kind, rcpts: rs.map((r) => r.address) }, 'delivery status notification queued');
    }
    return changed;
  }

  /**
   * Run `work` on a message while nothing else does (administrator commands). The message is
   * scheduled right after when `reschedule` says so.
   */
  async #exclusive<T>(id: string, work: () => Promise<{ result: T; reschedule: boolean }>): Promise<T> {
    for (let running = this.#inFlight.get(id); running; running = this.#inFlight.get(id)) await running;
    const out = await this.#run(id, async () => {
      this.#known.delete(id);
      const r = await work();
      if (r.reschedule) this.#again.add(id);
      return r;
    });
    return out.result;
  }

  /** Try every pending recipient of a message now, whatever its next attempt time. */
  async retry(id: string): Promise<boolean> {
    return this.#exclusive(id, async () => {
      const env = await this.#load(id);
      if (!env) return { result: false, reschedule: false };
      this.#forced.set(id, this.clock.now() + 1);
      return { result: true, reschedule: true };
    });
  }

  /** Try everything now. */
  retryAll(): number {
    const now = this.clock.now();
    this.#forcedAll = now + 1;
    let n = 0;
    for (const id of this.#schedule.ids()) {
      this.#schedule.set(id, now);
      n++;
    }
    for (const id of this.#inFlight.keys()) {
      this.#again.add(id);
      n++;
    }
    this.#pump();
    return n;
  }

  /** Remove a message without any notice. */
  async delete(id: string): Promise<boolean> {
    return this.#exclusive(id, async () => {
      const env = await this.#load(id);
      if (!env) return { result: false, reschedule: false };
      this.#schedule.delete(id);
      this.#parked.delete(id);
      await this.spool.remove(id, env.hintAt);
      this.log.warn({ event: 'queue.deleted', queueId: id }, 'message deleted by the administrator');
      return { result: true, reschedule: false };
    });
  }

  /** Fail every pending recipient now; the failure notices follow as usual. */
  async bounce(id: string): Promise<boolean> {
    return this.#exclusive(id, async () => {
      const env = await this.#load(id);
      if (!env) return { result: false, reschedule: false };
      const now = this.clock.now();
      const hooks = this.plugins().hooks;
      for (const r of bounceAll(env, now)) {
        if (r.target.kind === 'remote') await hooks.outbound.bounced.call({ queueId: id, recipient: r.target.address, mailFrom: env.mailFrom.address, attempt: r.attempts, reason: r.lastError! }, {});
        else await hooks.delivery.failed.call({ queueId: id, recipient: r.address, detail: r.lastError! }, {});
      }
      await this.spool.moveHint(id, env.hintAt, undefined);
      delete env.hintAt;
      await this.spool.updateEnvelope(env);
      this.log.warn({ event: 'queue.bounced', queueId: id }, 'message bounced by the administrator');
      return { result: true, reschedule: true };
    });
  }

  /** Stop taking work, abort remote attempts and wait for what is in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#schedule.clear();
    this.#parked.clear();
    this.#known.clear();
    await Promise.allSettled([...this.#inFlight.values()]);
  }
}

/** The address a remote target is delivered to. */
function remoteAddress(r: SpoolRecipient): string {
  return r.target.kind === 'remote' ? r.target.address : r.address;
}

/** RFC 3464 §2.3.6 diagnostic-code of type smtp. */
function diagnostic(reply: { code: number; enhanced?: string; text: string }): string {
  return `smtp; ${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''} ${reply.text}`;
}

/** Mark every pending recipient failed (an administrator's bounce); returns those changed. */
export function bounceAll(env: SpoolEnvelope, now: number): SpoolRecipient[] {
  const changed: SpoolRecipient[] = [];
  for (const r of env.recipients) {
    if (isFinal(r)) continue;
    r.state = 'failed';
    r.doneAt = now;
    r.status = '5.0.0';
    r.lastError = 'bounced by the administrator';
    delete r.diagnostic;
    delete r.nextAttemptAt;
    changed.push(r);
  }
  return changed;
}
