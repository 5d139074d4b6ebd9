/**
 * One POP3 connection: socket I/O, the RFC 1939 state machine (AUTHORIZATION → TRANSACTION →
 * UPDATE), STLS, login with the maildrop lock, and UPDATE on QUIT. Commands are parsed in
 * commands.ts; lines are framed by line-reader.ts.
 *
 * Nothing changes in the store unless QUIT arrives in TRANSACTION: a dropped connection, a timeout
 * or a server stop leaves every message as it was. The lock goes when the session ends.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { AuthAttempt, Credentials } from '../auth/types.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { MAIL_STORE, INBOX, type FolderView } from '../store/mail-store.ts';
import { isMailStoreError } from '../store/errors.ts';
import { runCommand, type CommandContext, type Pop3State } from './commands.ts';
import { DotStuffer } from './dot-stuffer.ts';
import { LineReader, type LineEvent } from './line-reader.ts';
import { Maildrop, type DropMessage } from './maildrop.ts';

/** Client errors (unknown commands, bad syntax, failed logins) before the session is closed. */
export const MAX_ERRORS = 10;
/** Queued pipelined lines before the socket is paused. */
const MAX_QUEUED = 64;
/** Batch size for multi-line listings. */
const BATCH_BYTES = 16 * 1024;

/** The maildrop locks, owned by the service: one session per user at a time. */
export interface MaildropLocks {
  acquire(user: string, holder: object): boolean;
  release(user: string, holder: object): void;
}

export interface SessionEnv {
  readonly id: string;
  readonly listener: string;
  readonly tlsMode: 'starttls' | 'implicit';
  readonly allowPlaintextAuth: boolean;
  readonly idleTimeoutMs: number;
  readonly maxLineLength: number;
  readonly secureContext: tls.SecureContext;
  /** The plugin generation this connection uses until it ends (retained by the service). */
  readonly runtime: Runtime;
  readonly locks: MaildropLocks;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export class Pop3Session {
  readonly #env: SessionEnv;
  #sock: Socket;
  readonly #remoteAddress: string;
  #secure: boolean;
  #state: Pop3State = 'AUTHORIZATION';
  readonly #reader: LineReader;
  readonly #queue: LineEvent[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  #idle: NodeJS.Timeout | undefined;
  #killer: NodeJS.Timeout | undefined;
  #errors = 0;
  #user: string | undefined;
  #locked = false;
  #view: FolderView | undefined;
  #maildrop: Maildrop | undefined;
  #pendingUser: string | undefined;
  #endReason = 'closed';
  #deleted = 0;
  /** Resolves when the session has ended and released everything. */
  readonly done: Promise<void>;

  constructor(sock: Socket, env: SessionEnv) {
    this.#env = env;
    this.#sock = sock;
    this.#remoteAddress = sock.remoteAddress ?? '';
    this.#secure = env.tlsMode === 'implicit';
    this.#reader = new LineReader(env.maxLineLength);
    this.#attach(sock);
    this.done = this.#run();
  }

  get user(): string | undefined {
    return this.#user;
  }

  /** Server stop: say so and close; no UPDATE. */
  shutdown(): void {
    if (this.#closed) return;
    this.#endReason = 'shutdown';
    this.#sock.write('-ERR [SYS/TEMP] Server shutting down\r\n');
    this.#close();
  }

  // ---- socket ----

  readonly #onData = (chunk: Buffer): void => {
    this.#armIdle();
    for (const ev of this.#reader.push(chunk)) this.#queue.push(ev);
    if (this.#queue.length >= MAX_QUEUED) this.#sock.pause();
    this.#wake();
  };

  readonly #onClose = (): void => {
    this.#closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    if (this.#killer) clearTimeout(this.#killer);
    this.#wake();
  };

  readonly #onError = (err: Error): void => {
    this.#env.log.debug({ event: 'pop3.socket_error', session: this.#env.id, err: err.message }, 'socket error');
    this.#endReason = 'error';
    this.#sock.destroy();
  };

  #attach(sock: Socket): void {
    sock.on('data', this.#onData);
    sock.on('close', this.#onClose);
    sock.on('error', this.#onError);
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  #armIdle(): void {
    if (this.#closed) return;
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = setTimeout(() => {
      this.#endReason = 'idle timeout';
      this.#env.metrics.inc('pop3_timeouts_total');
      this.#sock.write('-ERR Disconnected for inactivity\r\n');
      this.#close();
    }, this.#env.idleTimeoutMs);
  }

  /** End the connection: FIN now, a hard close if the peer does not follow. */
  #close(): void {
    if (this.#closed) return;
    this.#sock.end();
    if (!this.#killer) {
      this.#killer = setTimeout(() => this.#sock.destroy(), 2000);
      this.#killer.unref();
    }
  }

  async #write(data: string | Buffer): Promise<void> {
    if (this.#closed || this.#sock.destroyed) return;
    if (this.#sock.write(data)) return;
    const ac = new AbortController();
    try {
      await Promise.race([once(this.#sock, 'drain', { signal: ac.signal }), once(this.#sock, 'close', { signal: ac.signal })]);
    } catch { /* aborted or errored: the close handler takes over */ } finally {
      ac.abort();
    }
    this.#armIdle();
  }

  async #nextEvent(): Promise<LineEvent | undefined> {
    for (;;) {
      const ev = this.#queue.shift();
      if (ev) {
        if (this.#queue.length === 0 && !this.#closed) this.#sock.resume();
        return ev;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  // ---- the session ----

  async #run(): Promise<void> {
    const env = this.#env;
    env.metrics.inc('pop3_sessions_total', { listener: env.listener });
    this.#armIdle();
    try {
      await this.#write('+OK POP3 server ready\r\n');
      const ctx = this.#context();
      for (;;) {
        const ev = await this.#nextEvent();
        if (!ev) break;
        if ('overlong' in ev) await ctx.error('-ERR line too long');
        else if (ev.line === '') await ctx.error('-ERR empty command');
        else await runCommand(ctx, ev.line);
        if (this.#state === 'UPDATE') break;
      }
    } catch (err) {
      this.#endReason = 'error';
      env.log.warn({ event: 'pop3.session_error', session: env.id, err: (err as Error).message }, 'session failed');
      this.#sock.destroy();
    } finally {
      await this.#end();
    }
  }

  async #end(): Promise<void> {
    const env = this.#env;
    if (!this.#closed) this.#close();
    if (this.#view) await this.#view.close().catch(() => {});
    this.#view = undefined;
    if (this.#locked && this.#user) env.locks.release(this.#user, this);
    this.#locked = false;
    // Wait for the socket to go, so `done` means "nothing left open".
    if (!this.#closed) await once(this.#sock, 'close').catch(() => {});
    if (this.#idle) clearTimeout(this.#idle);
    const drop = this.#maildrop;
    env.log.info({
      event: 'pop3.session_end', session: env.id, remote: this.#remoteAddress, user: this.#user ?? null,
      retrieved: drop?.retrievedCount ?? 0, deleted: this.#deleted, reason: this.#endReason,
    }, `pop3 session ended (${this.#endReason})`);
  }

  #context(): CommandContext {
    const methods = {
      send: (line: string) => this.#write(line + '\r\n'),
      sendMultiline: (first: string, lines: Iterable<string>) => this.#sendMultiline(first, lines),
      sendMessage: (m: DropMessage, bodyLines?: number) => this.#sendMessage(m, bodyLines),
      nextLine: () => this.#nextEvent(),
      startTls: () => this.#startTls(),
      login: (mechanism: string, creds: Credentials) => this.#login(mechanism, creds),
      quit: () => this.#quit(),
      error: (reply: string) => this.#clientError(reply),
    };
    // Live views of the session's state (getters, so commands always see the current values).
    return Object.defineProperties(methods, {
      state: { get: () => this.#state },
      secure: { get: () => this.#secure },
      canStartTls: { get: () => this.#env.tlsMode === 'starttls' && !this.#secure },
      authAllowed: { get: () => this.#secure || this.#env.allowPlaintextAuth },
      maildrop: { get: () => this.#maildrop },
      pendingUser: { get: () => this.#pendingUser, set: (v: string | undefined) => { this.#pendingUser = v; } },
    }) as typeof methods & Pick<CommandContext, 'state' | 'secure' | 'canStartTls' | 'authAllowed' | 'maildrop' | 'pendingUser'>;
  }

  async #clientError(reply: string): Promise<void> {
    await this.#write(reply + '\r\n');
    if (++this.#errors >= MAX_ERRORS) {
      this.#endReason = 'too many errors';
      await this.#write('-ERR Too many errors, closing connection\r\n');
      this.#close();
    }
  }

  async #sendMultiline(first: string, lines: Iterable<string>): Promise<void> {
    let batch = first + '\r\n';
    for (const l of lines) {
      batch += (l.startsWith('.') ? '.' : '') + l + '\r\n';
      if (batch.length >= BATCH_BYTES) {
        await this.#write(batch);
        batch = '';
      }
    }
    await this.#write(batch + '.\r\n');
  }

  async #sendMessage(m: DropMessage, bodyLines: number | undefined): Promise<boolean> {
    const view = this.#view;
    if (!view) return false;
    let stream;
    try {
      stream = await view.read(m.uid);
    } catch (err) {
      this.#env.log.info({ event: 'pop3.read_failed', session: this.#env.id, uid: m.uid, err: (err as Error).message }, 'message not readable');
      return false;
    }
    const stuffer = new DotStuffer(bodyLines);
    try {
      await this.#write(bodyLines === undefined ? `+OK ${m.size} octets\r\n` : '+OK top of message follows\r\n');
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        if (this.#closed) break;
        for (const piece of stuffer.push(chunk)) await this.#write(piece);
        if (stuffer.done) break;
      }
    } catch (err) {
      // The "+OK" is out; a half-sent message cannot be repaired in-band.
      this.#env.log.warn({ event: 'pop3.read_failed', session: this.#env.id, uid: m.uid, err: (err as Error).message }, 'message read failed mid-response; closing');
      this.#endReason = 'read error';
      this.#sock.destroy();
      return true;
    } finally {
      stream.destroy();
    }
    for (const piece of stuffer.finish()) await this.#write(piece);
    if (bodyLines === undefined) {
      this.#env.metrics.inc('pop3_retrieved_total');
      if (stuffer.payloadBytes !== m.size) {
        this.#env.log.warn({ event: 'pop3.size_mismatch', session: this.#env.id, uid: m.uid, listed: m.size, sent: stuffer.payloadBytes }, 'message is not stored with CRLF line ends; sent size differs from LIST');
      }
    }
    return true;
  }

  async #startTls(): Promise<void> {
    const raw = this.#sock;
    // RFC 2595 §4 / CVE-2011-0411: nothing pipelined before the handshake is acted on.
    raw.removeListener('data', this.#onData);
    raw.pause();
    this.#queue.length = 0;
    this.#reader.reset();
    this.#pendingUser = undefined;
    await this.#write('+OK Begin TLS negotiation\r\n');
    if (this.#closed) return;
    raw.removeListener('close', this.#onClose);
    raw.removeListener('error', this.#onError);
    raw.on('error', () => {}); // the TLS socket reports it
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.#env.secureContext });
    this.#sock = secure;
    this.#attach(secure);
    secure.once('secure', () => {
      this.#secure = true;
      this.#armIdle();
    });
  }

  async #login(mechanism: string, creds: Credentials): Promise<void> {
    const env = this.#env;
    const hooks = env.runtime.hooks;
    const attempt: AuthAttempt = { protocol: 'pop3', mechanism, remoteAddress: this.#remoteAddress, secure: this.#secure, sessionId: env.id };
    const trace = { log: env.log };
    const v = (await hooks.auth.verify.call(attempt, creds, trace)) ?? { kind: 'fail' as const };
    if (v.kind !== 'ok') {
      env.metrics.inc('auth_total', { protocol: 'pop3', result: v.kind });
      env.log.info({ event: 'auth.failed', session: env.id, username: creds.username, mechanism, result: v.kind, reason: v.reason }, 'authentication failed');
      await hooks.auth.failed.call(attempt, { username: creds.username }, trace);
      return this.#clientError(v.kind === 'tempfail' ? '-ERR [SYS/TEMP] Temporary authentication failure, try again later' : '-ERR [AUTH] Authentication failed');
    }
    const user = v.user;
    if (!env.locks.acquire(user, this)) {
      env.metrics.inc('pop3_in_use_total');
      env.log.info({ event: 'pop3.in_use', session: env.id, user }, 'maildrop locked by another session');
      return this.#write('-ERR [IN-USE] Mailbox in use\r\n');
    }
    this.#user = user;
    this.#locked = true;
    try {
      const store = env.runtime.services.get(MAIL_STORE);
      const view = await store.open(user, INBOX);
      if (this.#closed) {
        await view.close();
        return;
      }
      this.#view = view;
      this.#maildrop = new Maildrop(view);
    } catch (err) {
      env.locks.release(user, this);
      this.#locked = false;
      this.#user = undefined;
      env.log.warn({ event: 'pop3.open_failed', session: env.id, user, err: (err as Error).message, code: isMailStoreError(err) ? err.code : undefined }, 'cannot open the maildrop');
      return this.#write('-ERR [SYS/TEMP] Unable to open the maildrop, try again later\r\n');
    }
    this.#state = 'TRANSACTION';
    env.metrics.inc('auth_total', { protocol: 'pop3', result: 'ok' });
    env.log.info({ event: 'auth.ok', session: env.id, user, mechanism }, 'authenticated');
    await hooks.auth.login.call(attempt, { user, mechanism }, trace);
    const s = this.#maildrop.stat();
    await this.#write(`+OK Logged in, maildrop has ${s.count} messages (${s.octets} octets)\r\n`);
  }

  async #quit(): Promise<void> {
    if (this.#state !== 'TRANSACTION') {
      this.#endReason = 'quit';
      this.#state = 'UPDATE';
      await this.#write('+OK Logging out\r\n');
      this.#close();
      return;
    }
    this.#state = 'UPDATE';
    this.#endReason = 'quit';
    const drop = this.#maildrop!;
    const view = this.#view!;
    const doomed = drop.deletedUids();
    let reply: string;
    try {
      if (doomed.length) {
        await view.setFlags(doomed, { mode: 'add', flags: ['\\Deleted'] });
        this.#deleted = (await view.expunge(doomed)).length;
        this.#env.metrics.inc('pop3_deleted_total', undefined, this.#deleted);
      }
      reply = `+OK Logging out, ${this.#deleted} messages deleted`;
    } catch (err) {
      this.#env.log.warn({ event: 'pop3.update_failed', session: this.#env.id, user: this.#user, err: (err as Error).message }, 'UPDATE failed');
      reply = '-ERR [SYS/TEMP] Some deleted messages not removed';
    }
    // Dovecot-like: messages read in full with RETR are \Seen for IMAP, set at UPDATE only.
    const seen = drop.seenUids();
    if (seen.length) await view.setFlags(seen, { mode: 'add', flags: ['\\Seen'] }).catch(() => {});
    await this.#write(reply + '\r\n');
    this.#close();
  }
}
