import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerAuthentication, type SMTPServerDataStream, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import type { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { RootConfig, ListenerConfig } from '../config/schema.ts';
import type { DnsResolver } from '../dns.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Clock } from '../clock.ts';
import type { Runtime } from '../runtime.ts';
import type { TlsMaterial } from '../tls.ts';
import type { Spool } from '../queue/spool.ts';
import type { QueueRunner } from '../queue/runner.ts';
import { QueueIdFactory } from '../queue/ids.ts';
import { SpillSink } from '../queue/spill-sink.ts';
import type { MessageBody } from '../queue/body.ts';
import { REMOTE_DELIVERY } from '../queue/remote.ts';
import type { DeliveryTarget, Reply } from '../verdict.ts';
import { REPLY, replyText, withText } from './codes.ts';
import { smtpError } from './errors.ts';
import { toMailFrom, toRecipient } from './address.ts';
import { DataGuard } from './data-guard.ts';
import { receiveData } from './receive-data.ts';
import { GcPacer } from '../gc-pacer.ts';
import { ADAPTER, PROGRESS, installPatches, type PatchAdapter, type Progress } from './patches.ts';
import { receivedHeader } from './received.ts';
import { Session, Transaction } from './session.ts';
import { logTransaction } from './transaction-record.ts';
import { acceptMessage, refuse } from './accept-message.ts';
import type { ListenerInfo } from './types.ts';

const SESSION = Symbol('pochta.session');
type LibSession = SMTPServerSession & { [SESSION]?: Session; [PROGRESS]?: Progress };

export interface SmtpServiceDeps {
  config: () => RootConfig;
  runtime: () => Runtime;
  tls: TlsMaterial;
  spool: Spool;
  queue: QueueRunner;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  dns: DnsResolver;
  /** Goes into queue ids, so each worker recovers only what it received. */
  workerId: number;
}

interface Bound {
  info: ListenerInfo;
  config: ListenerConfig;
  server: SMTPServer;
}

/**
 * SMTP receive over smtp-server: one SMTPServer per configured listener, every callback routed
 * through the hooks. Owns the connection counters and the command-timeout watchdog.
 */
export class SmtpService {
  readonly #deps: SmtpServiceDeps;
  readonly #bound: Bound[] = [];
  readonly #perIp = new Map<string, number>();
  #total = 0;
  #watchdog?: NodeJS.Timeout;
  readonly #gcPacer = new GcPacer();
  readonly #ids: QueueIdFactory;
  /** The plugin generation each connection started with (a reload does not switch it mid-session). */
  readonly #runtimes = new WeakMap<Session, Runtime>();

  #stopping = false;

  #rt(s: Session | undefined): Runtime {
    return (s && this.#runtimes.get(s)) ?? this.#deps.runtime();
  }

  constructor(deps: SmtpServiceDeps) {
    this.#deps = deps;
    this.#ids = new QueueIdFactory(deps.workerId);
    installPatches();
  }

  /** Listener name → the address it is bound to (port 0 in config means "pick one"). */
  addresses(): Record<string, { host: string; port: number }> {
    return Object.fromEntries(this.#bound.map((b) => [b.info.name, { host: b.info.host, port: b.info.port }]));
  }

  async start(): Promise<void> {
    const cfg = this.#deps.config();
    for (const [name, l] of Object.entries(cfg.smtp.listeners)) {
      if (!l.enabled) continue;
      const info: { -readonly [K in keyof ListenerInfo]: ListenerInfo[K] } = { name, kind: l.kind, host: l.host, port: l.port };
      const server = new SMTPServer(this.#options(info, l));
      (server as unknown as Record<symbol, PatchAdapter>)[ADAPTER] = this.#patchAdapter(l);
      server.on('error', (err) => this.#deps.log.warn({ event: 'smtp.error', listener: name, err: (err).message }, 'smtp connection error'));
      server.listen(l.port, l.host);
      await Promise.race([once(server.server, 'listening'), once(server.server, 'error').then(([e]) => { throw new Error(`smtp.listeners.${name}: cannot listen on ${l.host}:${l.port}: ${(e as Error).message}`); })]);
      info.port = (server.server.address() as AddressInfo).port;
      this.#bound.push({ info, config: l, server });
      this.#deps.log.info({ event: 'smtp.listening', listener: name, kind: l.kind, host: l.host, port: info.port }, `${l.kind} listening on ${l.host}:${info.port}`);
    }
    const period = Math.max(250, Math.min(30_000, Math.floor(cfg.smtp.commandTimeoutMs / 4)));
    this.#watchdog = setInterval(() => this.#checkTimeouts(), period);
    this.#watchdog.unref();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#watchdog) clearInterval(this.#watchdog);
    await Promise.all(this.#bound.map((b) => new Promise<void>((resolve) => {
      const lib = b.server as unknown as { connections: Set<SMTPConnection>; options: { closeTimeout?: number } };
      lib.options.closeTimeout = 2000;
      b.server.close(() => resolve());
      // Say goodbye to idle clients now rather than after closeTimeout.
      for (const c of lib.connections) if (!(c as unknown as { _dataStream?: unknown })._dataStream) {
        try {
          c.send(421, replyText(REPLY.shuttingDown));
          c.close();
        } catch { /* already gone */ }
      }
    })));
    this.#bound.length = 0;
  }

  #checkTimeouts(): void {
    const limit = this.#deps.config().smtp.commandTimeoutMs;
    const now = Date.now();
    for (const b of this.#bound) {
      for (const c of (b.server as unknown as { connections: Set<SMTPConnection & { [PROGRESS]?: Progress }> }).connections) {
        const p = c[PROGRESS];
        if (p && p.pending && now - p.at > limit) {
          this.#deps.log.info({ event: 'smtp.command_timeout', remote: c.remoteAddress }, 'command or message took too long; closing');
          this.#deps.metrics.inc('smtp_timeouts_total', { kind: 'command' });
          p.pending = false;
          try {
            c.send(REPLY.timeout.code, replyText(REPLY.timeout));
            c.close();
          } catch { /* already closing */ }
        }
      }
    }
  }

  #options(info: ListenerInfo, l: ListenerConfig): SMTPServerOptions {
    const cfg = this.#deps.config();
    const tls = this.#deps.tls;
    const disabled: string[] = [];
    if (l.kind === 'mx') disabled.push('AUTH');
    if (l.kind === 'submissions') disabled.push('STARTTLS');
    const opts: SMTPServerOptions = {
      name: cfg.hostname,
      secure: l.kind === 'submissions',
      key: tls.key,
      cert: tls.cert,
      minVersion: cfg.tls.minVersion,
      disabledCommands: disabled,
      authMethods: ['PLAIN', 'LOGIN'],
      authOptional: false,
      allowInsecureAuth: false,
      size: cfg.smtp.maxMessageSize,
      hideENHANCEDSTATUSCODES: false,
      hideDSN: false,
      hidePIPELINING: false,
      hide8BITMIME: false,
      hideSMTPUTF8: false,
      maxRecipients: cfg.smtp.maxRecipients,
      socketTimeout: cfg.smtp.idleTimeoutMs,
      closeTimeout: 30_000,
      disableReverseLookup: !cfg.smtp.reverseDns,
      resolver: { reverse: (ip: string, cb: (err: Error | null, names?: string[]) => void) => { this.#deps.dns.reverse(ip).then((n) => cb(null, n), (e: Error) => cb(e)); } },
      logger: false,
      heloResponse: '%s at your service, [%s]',
      onConnect: (s, cb) => { this.#onConnect(info, s as LibSession).then(() => cb(), cb); },
      onSecure: (socket, s, cb) => {
        const ours = (s as LibSession)[SESSION];
        if (ours) {
          ours.secure = true;
          const proto = (socket as { getProtocol?: () => string | null }).getProtocol?.() ?? undefined;
          const cipher = (socket as { getCipher?: () => { name: string } }).getCipher?.()?.name;
          ours.tls = { ...(proto ? { protocol: proto } : {}), ...(cipher ? { cipher } : {}) };
        }
        cb();
      },
      onAuth: (auth, s, cb) => { this.#onAuth(auth, s as LibSession).then((user) => cb(null, { user }), (e: Error) => cb(e)); },
      onMailFrom: (addr, s, cb) => { this.#onMailFrom(addr, s as LibSession).then(() => cb(), cb); },
      onRcptTo: (addr, s, cb) => { this.#onRcptTo(addr, s as LibSession).then(() => cb(), cb); },
      onData: (stream, s, cb) => { this.#onData(stream, s as LibSession).then((msg) => cb(null, msg), (e: Error) => cb(e)); },
      onClose: (s) => { void this.#onClose(s); },
    };
    return opts;
  }

  #patchAdapter(l: ListenerConfig): PatchAdapter {
    return {
      greetingDelayMs: () => l.greetingDelayMs ?? 0,
      helo: async (conn, verb, host) => {
        const s = (conn.session as LibSession)[SESSION];
        if (!s) return undefined;
        s.helo = { verb, host: host.toLowerCase() };
        const v = await this.#rt(s).hooks.smtp.helo.call(s, { verb, host }, s.callTrace());
        return v && v.kind !== 'accept' ? this.#finalReply(v.reply, v.disconnect) : undefined;
      },
      // RFC 4954 §4 lets a server hide AUTH until TLS; on submission we always do (AUTH only over TLS).
      filterEhlo: (conn, features) => (!conn.secure ? features.filter((f) => !/^AUTH\b/i.test(f)) : features),
      data: async (conn) => {
        const tx = this.#tx(conn.session);
        if (!tx) return undefined;
        const v = await this.#rt(tx.session).hooks.smtp.data.call(tx, {}, tx.callTrace());
        return v && v.kind !== 'accept' ? v.reply : undefined;
      },
    };
  }

  /** A 421 closes the connection (RFC 5321 §3.8); `disconnect` turns any reply into one that does. */
  #finalReply(reply: Reply, disconnect?: boolean): Reply {
    return disconnect && reply.code !== 421 ? { ...reply, code: 421 } : reply;
  }

  async #onConnect(info: ListenerInfo, lib: LibSession): Promise<void> {
    const d = this.#deps;
    const cfg = d.config();
    const runtime = d.runtime();
    runtime.retain();
    const s = new Session({
      id: lib.id,
      listener: info,
      remoteAddress: lib.remoteAddress,
      remotePort: lib.remotePort,
      localAddress: lib.localAddress,
      localPort: lib.localPort,
      secure: Boolean(lib.secure) || info.kind === 'submissions',
      log: d.log,
      logBindings: { session: lib.id, remote: lib.remoteAddress },
      openedAt: d.clock.now(),
    });
    if (lib.clientHostname && !/^\[/.test(lib.clientHostname)) s.clientHostname = lib.clientHostname;
    lib[SESSION] = s;
    this.#runtimes.set(s, runtime);
    // Counted from here; #onClose (which smtp-server always calls) uncounts.
    const ipCount = (this.#perIp.get(s.remoteAddress) ?? 0) + 1;
    this.#perIp.set(s.remoteAddress, ipCount);
    this.#total++;
    d.metrics.inc('smtp_connections_total', { listener: info.name });
    if (this.#stopping) throw smtpError(REPLY.shuttingDown);
    if (this.#total > cfg.smtp.maxConnections) {
      d.metrics.inc('smtp_refused_total', { reason: 'max_connections' });
      throw smtpError(REPLY.tooManyConnections);
    }
    if (ipCount > cfg.smtp.maxConnectionsPerIp) {
      d.metrics.inc('smtp_refused_total', { reason: 'max_per_ip' });
      throw smtpError(REPLY.tooManyFromYou);
    }
    const v = await runtime.hooks.smtp.connect.call(s, {}, s.callTrace());
    if (v && v.kind !== 'accept') {
      s.log.info({ event: 'smtp.connect.refused', reply: v.reply }, 'connection refused by policy');
      throw smtpError(v.reply);
    }
  }

  async #onClose(lib: LibSession): Promise<void> {
    const s = lib[SESSION];
    if (!s) return;
    const n = (this.#perIp.get(s.remoteAddress) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(s.remoteAddress);
    else this.#perIp.set(s.remoteAddress, n);
    this.#total--;
    const runtime = this.#rt(s);
    try {
      await runtime.hooks.smtp.disconnect.call(s, { reason: 'closed' }, s.callTrace());
    } finally {
      runtime.release();
    }
  }

  async #onAuth(auth: SMTPServerAuthentication, lib: LibSession): Promise<string> {
    const s = lib[SESSION];
    if (!s) throw smtpError(REPLY.tempLocal);
    const hooks = this.#rt(s).hooks;
    const attempt = { protocol: 'smtp' as const, mechanism: auth.method, remoteAddress: s.remoteAddress, secure: s.secure, sessionId: s.id };
    const username = auth.username ?? '';
    const v = (await hooks.auth.verify.call(attempt, { username, password: auth.password ?? '' }, s.callTrace())) ?? { kind: 'fail' as const };
    if (v.kind === 'ok') {
      s.user = v.user;
      this.#deps.metrics.inc('auth_total', { protocol: 'smtp', result: 'ok' });
      s.log.info({ event: 'auth.ok', user: v.user, mechanism: auth.method }, 'authenticated');
      await hooks.auth.login.call(attempt, { user: v.user, mechanism: auth.method }, s.callTrace());
      return v.user;
    }
    this.#deps.metrics.inc('auth_total', { protocol: 'smtp', result: v.kind });
    s.log.info({ event: 'auth.failed', username, mechanism: auth.method, result: v.kind, reason: v.reason }, 'authentication failed');
    await hooks.auth.failed.call(attempt, { username }, s.callTrace());
    const reply = v.reply ?? (v.kind === 'tempfail' ? REPLY.authTempfail : REPLY.authFailed);
    throw smtpError(reply);
  }

  #tx(lib: LibSession): Transaction | undefined {
    return (lib as unknown as { [k: symbol]: Transaction | undefined })[TX];
  }

  async #onMailFrom(addr: Parameters<NonNullable<SMTPServerOptions['onMailFrom']>>[0], lib: LibSession): Promise<void> {
    const s = lib[SESSION];
    if (!s) throw smtpError(REPLY.tempLocal);
    const d = this.#deps;
    const mailFrom = toMailFrom(addr, lib.envelope);
    const tx = new Transaction(this.#ids.next(d.clock.now()), s, mailFrom);
    (lib as unknown as Record<symbol, Transaction>)[TX] = tx;
    const v = await this.#rt(s).hooks.smtp.mailFrom.call(tx, mailFrom, tx.callTrace());
    if (v && v.kind !== 'accept') {
      tx.outcome = `mail ${v.kind}`;
      logTransaction(tx, v.reply);
      throw smtpError(this.#finalReply(v.reply, v.disconnect));
    }
  }

  async #onRcptTo(addr: Parameters<NonNullable<SMTPServerOptions['onRcptTo']>>[0], lib: LibSession): Promise<void> {
    const tx = this.#tx(lib);
    if (!tx) throw smtpError(REPLY.tempLocal);
    const d = this.#deps;
    const runtime = this.#rt(tx.session);
    const rcpt = toRecipient(addr);
    const v = await runtime.hooks.smtp.rcptTo.call(tx, rcpt, tx.callTrace());
    let targets: readonly DeliveryTarget[];
    if (v && v.kind !== 'accept') {
      tx.log.info({ event: 'smtp.rcpt.rejected', rcpt: rcpt.address, reply: v.reply }, 'recipient refused');
      d.metrics.inc('smtp_rcpt_total', { result: v.kind });
      throw smtpError(this.#finalReply(v.reply, v.disconnect));
    }
    if (v) targets = v.targets ?? [{ kind: 'remote', address: rcpt.address }];
    else if (tx.session.relay.allowed) targets = [{ kind: 'remote', address: rcpt.address }];
    else {
      // Default-deny (design.md): no plugin accepted the recipient and the client may not relay.
      tx.log.info({ event: 'smtp.rcpt.rejected', rcpt: rcpt.address, reply: REPLY.relayDenied }, 'relaying denied');
      d.metrics.inc('smtp_rcpt_total', { result: 'relay_denied' });
      throw smtpError(REPLY.relayDenied);
    }
    if (targets.some((t) => t.kind === 'remote') && !runtime.services.find(REMOTE_DELIVERY)) {
      tx.log.warn({ event: 'smtp.rcpt.no_remote_delivery', rcpt: rcpt.address }, 'recipient needs remote delivery, which no plugin provides');
      d.metrics.inc('smtp_rcpt_total', { result: 'no_remote_delivery' });
      throw smtpError(REPLY.remoteDeliveryUnavailable);
    }
    d.metrics.inc('smtp_rcpt_total', { result: 'accept' });
    tx.rcptTo.push({ ...rcpt, targets });
  }

  async #onData(stream: SMTPServerDataStream, lib: LibSession): Promise<string> {
    const tx = this.#tx(lib);
    const d = this.#deps;
    const cfg = d.config();
    if (!tx) {
      stream.resume();
      throw smtpError(REPLY.tempLocal);
    }
    const s = tx.session;
    const spool = d.spool;
    const sink = new SpillSink(cfg.queue.memoryBodyBytes, () => spool.createBody(tx.id));
    let committed = false;
    try {
      const received = receivedHeader({
        ...(s.helo ? { helo: s.helo.host } : {}),
        ...(s.clientHostname ? { clientHostname: s.clientHostname } : {}),
        remoteAddress: s.remoteAddress,
        hostname: cfg.hostname,
        esmtp: s.helo?.verb === 'EHLO',
        secure: s.secure,
        authenticated: Boolean(s.user),
        ...(s.tls ? { tls: s.tls } : {}),
        queueId: tx.id,
        ...(tx.rcptTo.length === 1 ? { recipient: tx.rcptTo[0].address } : {}),
        date: new Date(d.clock.now()),
      });
      const head = Buffer.from(received, 'utf8');
      const headWrite = sink.add(head);
      if (headWrite) await headWrite;
      const guard = new DataGuard({
        maxLineLength: cfg.smtp.maxLineLength,
        maxBytes: cfg.smtp.maxMessageSize,
        normalize: cfg.smtp.bareLineEndings === 'normalize',
        onBytes: (n) => this.#gcPacer.note(n),
      });
      await receiveData(stream, guard, sink);
      const progress = lib[PROGRESS];
      if (progress) progress.at = Date.now();
      const fail = (reply: Reply, why: string): never => refuse(tx, d.metrics, reply, why);
      if (guard.oversized || stream.sizeExceeded) fail(REPLY.messageTooBig, 'too_big');
      if (guard.bareLineEndings && cfg.smtp.bareLineEndings === 'reject') fail(REPLY.bareLineEnding, 'bare_line_ending');
      if (guard.lineTooLong) fail(withText(REPLY.lineTooLong, `Message contains a line longer than ${cfg.smtp.maxLineLength} octets (RFC 5322 section 2.1.1)`), 'line_too_long');
      const size = head.length + guard.bytesOut;
      const body: MessageBody = sink.spilled ? { kind: 'file', path: spool.bodyPath(tx.id) } : { kind: 'memory', bytes: sink.bytes() };
      const done = await acceptMessage(tx, { body, size, ...(sink.handle ? { handle: sink.handle } : {}) }, {
        config: cfg, hooks: this.#rt(s).hooks, spool, queue: d.queue, metrics: d.metrics, clock: d.clock,
      });
      committed = done.committed;
      return replyText(done.reply);
    } catch (err) {
      if ((err as { responseCode?: number }).responseCode) throw err;
      tx.log.error({ event: 'smtp.data.error', err }, 'could not receive the message');
      d.metrics.inc('smtp_messages_total', { result: 'error' });
      throw smtpError(REPLY.noQueue);
    } finally {
      // Refused, discarded, delivered inline, taken over by a queue plugin, or failed: the spool file goes.
      if (!committed && sink.spilled) await spool.abandon(tx.id, sink.handle);
      (lib as unknown as Record<symbol, Transaction | undefined>)[TX] = undefined;
    }
  }


}

const TX = Symbol('pochta.transaction');
