import { setMaxListeners } from 'node:events';
import type { DnsResolver } from '../../core/dns.ts';
import type { AttemptDecision, Hooks, NextHop, OutboundDestination, OutboundTlsPolicy } from '../../core/hooks.ts';
import type { KeyValueStore } from '../../core/kv/kv.ts';
import type { Logger } from '../../core/log.ts';
import { readKnownSize } from '../../core/queue/body.ts';
import { composeBuffer, composeMessage } from '../../core/queue/compose.ts';
import type { RemoteDelivery, RemoteJob, RemoteOutcome, RemoteRecipient, RemoteResult } from '../../core/queue/remote.ts';
import { SmtpClient, ConnectError, TransactionError } from './client.ts';
import type { OutboundConfig } from './config.ts';
import { DestinationLimiter } from './limiter.ts';
import { lookupSts, type StsLookup } from './mta-sts-fetch.ts';
import { mxMatches } from './mta-sts.ts';
import { addressesOf, resolveMx, type MxHost } from './mx.ts';
import { localFailure, outcomeFromReply, parseReply } from './outcome.ts';
import { ConnectionPool } from './pool.ts';
import { checkRemote } from './remote-checks.ts';
import { configuredHop } from './route.ts';
import { applyRequireTls, basePolicy, describePolicy, policyKey } from './tls-policy.ts';

/** The three outbound hooks, as the engine calls them (undefined: nobody answered). */
export interface OutboundHookCalls {
  route(dest: OutboundDestination): Promise<NextHop | undefined>;
  tlsPolicy(dest: OutboundDestination, policy: OutboundTlsPolicy): Promise<OutboundTlsPolicy | undefined>;
  beforeAttempt(dest: OutboundDestination, hop: NextHop): Promise<AttemptDecision | undefined>;
}

/** The calls over a runtime's hooks (a plugin gets them as `ctx.drives`). */
export function hookCalls(hooks: { readonly outbound: Pick<Hooks['outbound'], 'route' | 'tlsPolicy' | 'beforeAttempt'> }): OutboundHookCalls {
  return {
    route: (d) => hooks.outbound.route.call(d, {}),
    tlsPolicy: (d, policy) => hooks.outbound.tlsPolicy.call(d, { policy }),
    beforeAttempt: (d, hop) => hooks.outbound.beforeAttempt.call(d, { hop }),
  };
}

export interface EngineDeps {
  readonly config: OutboundConfig;
  readonly ehloName: string;
  readonly dns: DnsResolver;
  readonly kv: KeyValueStore;
  readonly log: Logger;
  readonly now: () => number;
  readonly resolvePath: (p: string) => string;
  /** System roots plus tls.caFile, or undefined for the system's. */
  readonly ca?: ReadonlyArray<string | Buffer> | undefined;
  readonly hooks?: OutboundHookCalls | undefined;
}

type Outcomes = Map<string, RemoteOutcome>;

/** The stored bytes of a job, read at most once per job (undefined: stream them instead). */
type BodyBytes = () => Promise<Buffer | undefined>;

/**
 * Messages up to this size are read into memory once per job (one read call) and sent from the
 * buffer, whatever the number of transactions; larger ones are streamed from the spool file.
 */
const IN_MEMORY_BYTES = 1024 * 1024;

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

/** Where the recipients of one or more domains go, and how: one attempt (one transaction). */
interface Plan {
  /** Next hop and how it is reached: plans with the same key share the attempt. */
  readonly key: string;
  /** The concurrency cap applies per next hop (smarthost, or MX host list). */
  readonly destKey: string;
  readonly domains: string[];
  readonly rcpts: RemoteRecipient[];
  readonly targets: Target[];
  readonly policy: OutboundTlsPolicy;
}

/** A target to connect to: one address of one host. */
interface Target {
  readonly host: string;
  readonly address: string;
  readonly port: number;
  readonly implicitTls: boolean;
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
}

/**
 * The delivery engine behind REMOTE_DELIVERY: per destination (recipient domain) it picks the
 * next hop, works out the TLS policy, and makes one attempt over the MX hosts in order, reusing
 * idle connections, within the concurrency caps. It never retries later on its own: that is the
 * scheduler's (core/queue).
 */
export class OutboundEngine implements RemoteDelivery {
  readonly pool: ConnectionPool;
  readonly limiter: DestinationLimiter;
  readonly #d: EngineDeps;

  constructor(deps: EngineDeps) {
    this.#d = deps;
    this.pool = new ConnectionPool({ maxMessages: deps.config.reuse.maxMessages, idleMs: deps.config.reuse.idleMs });
    this.limiter = new DestinationLimiter(deps.config.concurrency.total, deps.config.concurrency.perDestination);
  }

  async deliver(job: RemoteJob, signal: AbortSignal): Promise<readonly RemoteResult[]> {
    // Every job in flight (and every one waiting for a slot) listens on the scheduler's one
    // signal: hundreds at once is the normal case, not a leak.
    setMaxListeners(0, signal);
    const byDomain = new Map<string, RemoteRecipient[]>();
    for (const r of job.recipients) {
      const d = domainOf(r.address);
      const list = byDomain.get(d);
      if (list) list.push(r);
      else byDomain.set(d, [r]);
    }
    const outcomes: Outcomes = new Map();
    // The message as sent (added headers, removed ones gone), composed once per job whatever the
    // number of next hops and attempts; undefined when it is too large to hold (it is streamed).
    let read: Promise<Buffer | undefined> | undefined;
    const body: BodyBytes = () => (read ??= (job.body.kind === 'memory'
      ? Promise.resolve(job.body.bytes)
      : job.size <= IN_MEMORY_BYTES ? readKnownSize(job.body.path, job.size).catch(() => undefined) : Promise.resolve(undefined))
      .then((bytes) => bytes && composeBuffer(job.headerPrefix, bytes, job.removeHeaders)));
    const fail = (rcpts: readonly RemoteRecipient[], domain: string, err: unknown) => {
      this.#d.log.warn({ event: 'outbound.error', queueId: job.queueId, domain, err: (err as Error).message }, 'attempt failed');
      for (const r of rcpts) if (!outcomes.has(r.address)) outcomes.set(r.address, { kind: 'tempfail', reason: `internal error: ${(err as Error).message}` });
    };
    // Route every domain, then one attempt per next hop: recipients of several domains that go
    // to the same smarthost or the same MX hosts share one transaction (RFC 5321 §3.3 allows any
    // recipients in one transaction; the next hop answers each RCPT on its own).
    const plans = await Promise.all([...byDomain].map(async ([domain, rcpts]) => {
      try {
        return await this.#plan(job, domain, rcpts, outcomes);
      } catch (err) {
        fail(rcpts, domain, err);
        return undefined;
      }
    }));
    const hops = new Map<string, Plan>();
    for (const plan of plans) {
      if (!plan) continue;
      const same = hops.get(plan.key);
      if (same) {
        same.rcpts.push(...plan.rcpts);
        same.domains.push(...plan.domains);
      } else hops.set(plan.key, plan);
    }
    await Promise.all([...hops.values()].map(async (plan) => {
      try {
        await this.#hop(job, plan, outcomes, body, signal);
      } catch (err) {
        fail(plan.rcpts, plan.domains.join(','), err);
      }
    }));
    return job.recipients.map((r) => ({
      address: r.address,
      outcome: outcomes.get(r.address) ?? { kind: 'tempfail', reason: signal.aborted ? 'server stopping' : 'not attempted' },
    }));
  }

  close(): void {
    this.pool.closeAll();
  }

  /**
   * Routing for one recipient domain: the next hop, its hosts and the TLS policy, or an outcome
   * for all its recipients at once (a hook delayed or cancelled, null MX, no such domain…).
   */
  async #plan(job: RemoteJob, domain: string, rcpts: RemoteRecipient[], out: Outcomes): Promise<Plan | undefined> {
    const { config, hooks, log } = this.#d;
    const all = (o: RemoteOutcome) => {
      for (const r of rcpts) out.set(r.address, o);
      return undefined;
    };
    const dest: OutboundDestination = { job, domain, recipients: rcpts.map((r) => r.address) };
    const hop = (await hooks?.route(dest)) ?? (await configuredHop(config, domain, this.#d.resolvePath));
    const decision = await hooks?.beforeAttempt(dest, hop);
    if (decision?.kind === 'delay') return all({ kind: 'tempfail', reason: `delayed: ${decision.reason}` });
    if (decision?.kind === 'cancel') return all(localFailure('permfail', 550, '5.7.0', `delivery cancelled: ${decision.reason}`));

    let hosts: readonly MxHost[];
    let sts: StsLookup = { kind: 'none' };
    if (hop.kind === 'smarthost') {
      hosts = [];
    } else {
      const mx = await resolveMx(this.#d.dns, domain, { maxHosts: config.maxMxHosts });
      // RFC 7505 §4.2: a null MX means the domain accepts no mail; fail at once.
      if (mx.kind === 'null-mx') return all(localFailure('permfail', 556, '5.1.10', `recipient domain ${domain} does not accept mail (null MX)`));
      if (mx.kind === 'permfail') return all(localFailure('permfail', 550, '5.1.2', mx.reason));
      if (mx.kind === 'tempfail') return all(localFailure('tempfail', 451, '4.4.3', mx.reason));
      hosts = mx.hosts;
      if (config.mtaSts.enabled) {
        sts = await lookupSts(domain, {
          dns: this.#d.dns, kv: this.#d.kv, now: this.#d.now, httpsPort: config.mtaSts.httpsPort, ca: this.#d.ca,
          timeoutMs: config.mtaSts.fetchTimeoutMs, maxBytes: config.mtaSts.maxPolicyBytes,
        }, (what) => log.warn({ event: 'outbound.mta-sts', domain, problem: what }, 'MTA-STS lookup problem'));
      }
    }
    let policy = basePolicy(config.tls, domain, hop, sts);
    const adjusted = await hooks?.tlsPolicy(dest, policy);
    if (adjusted) policy = adjusted;
    policy = applyRequireTls(policy, job.mailFrom.requireTls);
    const tlsPolicy = describePolicy(policy);

    let targets: Target[];
    let destKey: string;
    if (hop.kind === 'smarthost') {
      const { addresses } = await addressesOf(this.#d.dns, hop.host);
      targets = addresses.map((address) => ({ host: hop.host, address, port: hop.port, implicitTls: hop.tls === 'implicit', auth: hop.auth }));
      if (!targets.length) return all(localFailure('tempfail', 451, '4.4.3', `smarthost ${hop.host} has no address`));
      destKey = `smarthost:${hop.host}:${hop.port}`;
    } else {
      // RFC 8461 §4.1: under enforce, only MX hosts that match the policy are candidates.
      const usable = policy.mxPatterns && !policy.testing ? hosts.filter((h) => mxMatches(h.name, policy.mxPatterns!)) : hosts;
      if (!usable.length) return all(localFailure('tempfail', 451, '4.7.5', `no MX host of ${domain} matches its TLS policy (${tlsPolicy})`));
      targets = usable.flatMap((h) => h.addresses.map((address) => ({ host: h.name, address, port: config.port, implicitTls: false })));
      // The MX host list is the next hop (equal preferences come in random order: sorted here).
      destKey = `mx:${usable.map((h) => h.name.toLowerCase()).sort().join(',')}:${config.port}`;
    }
    // Same next hop, same way of talking to it: only then one transaction for both domains.
    const auth = targets[0]?.auth?.user ?? '';
    return { key: `${destKey}|${policyKey(policy)}|${auth}|${targets[0]?.implicitTls ?? false}`, destKey, domains: [domain], rcpts: [...rcpts], targets, policy };
  }

  /** One next hop: a connection slot for it (per-destination and total caps), then the attempt. */
  async #hop(job: RemoteJob, plan: Plan, out: Outcomes, body: BodyBytes, signal: AbortSignal): Promise<void> {
    let release: () => void;
    try {
      release = await this.limiter.acquire(plan.destKey, signal);
    } catch {
      for (const r of plan.rcpts) out.set(r.address, { kind: 'tempfail', reason: 'server stopping' });
      return;
    }
    try {
      await this.#attempt(job, plan.domains.join(','), plan.rcpts, plan.targets, plan.policy, out, body, signal);
    } finally {
      release();
    }
  }

  /** Try the targets in order until one connection takes the message (RFC 5321 §5.1). */
  async #attempt(job: RemoteJob, domain: string, rcpts: RemoteRecipient[], targets: Target[], policy: OutboundTlsPolicy, out: Outcomes, body: BodyBytes, signal: AbortSignal): Promise<void> {
    const { log } = this.#d;
    const failures: string[] = [];
    let lastReply: ReturnType<typeof parseReply> = undefined;
    for (const t of targets.slice(0, Math.max(this.#d.config.maxMxHosts, 1) * 2)) {
      const key = `${t.address}|${t.port}|${t.host}|${t.implicitTls}|${policyKey(policy)}|${t.auth?.user ?? ''}`;
      // An idle connection from the pool may have been closed by the server just now (no RSET
      // probes it first, RFC 5321 §4.1.4): when it breaks before any reply, one fresh connection
      // to the same host takes the message.
      for (let fresh = false; !signal.aborted; fresh = true) {
        let client = fresh ? undefined : this.pool.take(key);
        const reused = client !== undefined;
        if (client) {
          try {
            await client.reset();
          } catch {
            client.close();
            continue;
          }
        }
        if (!client) {
          try {
            client = await SmtpClient.open({
              address: t.address, port: t.port, hostname: t.host, ehloName: this.#d.ehloName, implicitTls: t.implicitTls,
              policy, ca: this.#d.ca, auth: t.auth, signal,
              connectTimeoutMs: this.#d.config.connectTimeoutMs, greetingTimeoutMs: this.#d.config.greetingTimeoutMs,
              commandTimeoutMs: this.#d.config.commandTimeoutMs,
            });
          } catch (err) {
            const e = err as ConnectError;
            failures.push(`${t.host}[${t.address}]: ${e.message}`);
            lastReply = parseReply(e.response) ?? lastReply;
            log.info({ event: 'outbound.connect-failed', queueId: job.queueId, domain, mx: t.host, address: t.address, tlsPolicy: describePolicy(policy), kind: e.kind ?? 'network', detail: e.message }, 'next host');
            // A refused AUTH is the relay's answer, not a host problem: no other address will differ.
            if (e instanceof ConnectError && e.kind === 'auth') return this.#unfinished(rcpts, out, failures, lastReply);
            break;
          }
        }
        const onAbort = () => client.close();
        signal.addEventListener('abort', onAbort, { once: true });
        const settled = () => rcpts.filter((r) => out.has(r.address)).length;
        const before = settled();
        try {
          log.info({
            event: 'outbound.attempt', queueId: job.queueId, domain, mx: t.host, address: t.address, port: t.port, reused,
            tlsPolicy: describePolicy(policy), tls: client.tls.secure ? `${client.tls.protocol ?? 'TLS'} ${client.tls.cipher ?? ''}`.trim() : 'none',
            verified: client.tls.authorized, ...(client.tls.report ? { mtaStsReport: client.tls.report } : {}),
          }, 'delivering');
          // Recipients that already have an outcome are not sent again.
          const done = await this.#sendAll(job, rcpts.filter((r) => !out.has(r.address)), client, t.host, out, body);
          if (done) return;
        } finally {
          signal.removeEventListener('abort', onAbort);
          this.pool.give(key, client);
        }
        if (reused && !fresh && settled() === before) continue;
        failures.push(`${t.host}[${t.address}]: connection lost`);
        break;
      }
      if (signal.aborted) break;
    }
    this.#unfinished(rcpts, out, failures, lastReply);
  }

  /** Every recipient still without an outcome after the attempt: a tempfail naming each host tried. */
  #unfinished(rcpts: RemoteRecipient[], out: Outcomes, failures: string[], lastReply: ReturnType<typeof parseReply>): void {
    const reason = failures.length ? `all hosts failed: ${failures.join('; ')}` : 'no host tried';
    for (const r of rcpts) {
      if (out.has(r.address)) continue;
      out.set(r.address, lastReply && lastReply.code >= 400 && lastReply.code < 500
        ? { kind: 'tempfail', reply: lastReply, reason }
        : localFailure('tempfail', 451, '4.4.1', reason));
    }
  }

  /**
   * Send the message over one connection, in one transaction (each recipient with its own
   * NOTIFY/ORCPT). True when every recipient has an outcome; false when the connection broke
   * before the end-of-data reply (the caller tries again for what is left).
   */
  async #sendAll(job: RemoteJob, rcpts: RemoteRecipient[], client: SmtpClient, mx: string, out: Outcomes, body: BodyBytes): Promise<boolean> {
    if (!rcpts.length) return true;
    const size = job.size + job.headerPrefix.length;
    const ext = client.extensions;
    const check = await checkRemote(job, ext, mx);
    if ('fail' in check) {
      for (const r of rcpts) out.set(r.address, check.fail);
      return true;
    }
    const whole = await body();
    const { ret, envid } = job.mailFrom.dsn ?? {};
    // RFC 3461 §6.2: NOTIFY/ORCPT passed to a DSN-capable hop make success notices its job.
    const passedDsn = (r: RemoteRecipient) => ext.has('DSN') && Boolean(r.dsn?.notify?.length || r.dsn?.orcpt);
    try {
      const res = await client.send({
        from: job.mailFrom.address, to: rcpts, size, dsn: ret || envid ? { ret, envid } : undefined, eightBit: check.eightBit,
        smtpUtf8: job.mailFrom.smtpUtf8, requireTls: job.mailFrom.requireTls,
      }, whole ?? composeMessage(job.headerPrefix, job.body, job.removeHeaders));
      const okReply = parseReply(res.response);
      const rejected = new Map(res.rejected.map((r) => [r.recipient, r.response]));
      for (const r of rcpts) {
        const rr = parseReply(rejected.get(r.address));
        if (rr) out.set(r.address, outcomeFromReply(rr, mx, 'RCPT TO'));
        else out.set(r.address, { kind: 'delivered', mx, ...(okReply ? { reply: okReply } : {}), ...(passedDsn(r) ? { dsn: true } : {}) });
      }
    } catch (err) {
      if (!(err instanceof TransactionError)) {
        // No reply: the connection broke or timed out (the client closed it). The caller tries
        // again (another connection or host) for the recipients without an outcome.
        return false;
      }
      const whole = parseReply(err.response) ?? { code: 451, enhanced: '4.4.0', text: err.response };
      const perRcpt = new Map(err.rejected.map((x) => [x.recipient, parseReply(x.response)]));
      const stage = err.stage === 'end of data' ? 'DATA' : err.stage;
      for (const r of rcpts) {
        const own = perRcpt.get(r.address);
        out.set(r.address, own ? outcomeFromReply(own, mx, 'RCPT TO') : outcomeFromReply(whole, mx, stage));
      }
    }
    return true;
  }
}
