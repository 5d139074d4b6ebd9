/**
 * One IMAP connection: socket I/O, the RFC 3501 §3 state machine (not authenticated →
 * authenticated → selected → logout), STARTTLS, login, and the output batching. Commands live in
 * commands/; framing in framing.ts; the selected mailbox's bookkeeping in selected.ts.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import type { AuthAttempt, Credentials } from '../auth/types.ts';
import type { Logger } from '../log.ts';
import type { Metrics } from '../metrics.ts';
import type { Runtime } from '../runtime.ts';
import { MAIL_STORE, type MailStore } from '../store/mail-store.ts';
import { isMailStoreError } from '../store/errors.ts';
import { StructureCache } from './message/index.ts';
import type { SharedUidLists } from './shared-uids.ts';
import { CommandFramer, type FrameEvent, type Segment } from './framing.ts';
import { Cursor, ParseError } from './parser/cursor.ts';
import type { LiteralBudget } from './literal-budget.ts';
import { SelectedMailbox } from './selected.ts';
import { dispatch } from './commands/index.ts';

export type ImapState = 'notauth' | 'auth' | 'selected' | 'logout';

/** Client errors (BAD, failed logins) tolerated before the connection is closed. */
const MAX_ERRORS = 50;
const MAX_FAILED_LOGINS = 5;
/** Framed commands queued before the socket is paused. */
const MAX_QUEUED = 32;
/** Output is written in batches of about this size. */
const BATCH_BYTES = 64 * 1024;
/** Written but not yet taken by the kernel: above this a session waits for 'drain'. */
const MAX_UNSENT = 256 * 1024;
/** Literal limit for every command but APPEND, and for everything before login. */
const SMALL_LITERAL = 64 * 1024;

export interface ImapLimits {
  readonly maxLineLength: number;
  readonly maxLiteralSize: number;
  readonly idleTimeoutMs: number;
  readonly preAuthTimeoutMs: number;
}

export interface ImapSessionEnv {
  readonly id: string;
  readonly listener: string;
  readonly tlsMode: 'starttls' | 'implicit';
  readonly allowPlaintextAuth: boolean;
  readonly limits: ImapLimits;
  readonly secureContext: tls.SecureContext;
  readonly runtime: Runtime;
  readonly cache: StructureCache;
  /** Sequence maps shared between sessions on the same folder state (optional: tests build sessions without). */
  readonly uidLists?: SharedUidLists;
  readonly literalBudget: LiteralBudget;
  readonly log: Logger;
  readonly metrics: Metrics;
}

export type LoginResult = 'ok' | 'fail' | 'tempfail' | 'closed';

export class ImapSession {
  readonly env: ImapSessionEnv;
  #sock: Socket;
  readonly remoteAddress: string;
  #secure: boolean;
  #state: ImapState = 'notauth';
  readonly #framer: CommandFramer;
  readonly #queue: FrameEvent[] = [];
  #waiter: (() => void) | undefined;
  #closed = false;
  #idle: NodeJS.Timeout | undefined;
  #killer: NodeJS.Timeout | undefined;
  #errors = 0;
  #failedLogins = 0;
  #user: string | undefined;
  #selected: SelectedMailbox | undefined;
  #out: Buffer[] = [];
  #outBytes = 0;
  /** Text responses queued after #out, turned into bytes once per batch (not once per response line). */
  #outText = '';
  #endReason = 'closed';
  /** A command is being executed (the autologout timer is stopped, RFC 3501 §5.4 is about idle clients). */
  #busy = false;
  /** Inside a command, waiting for the client (AUTHENTICATE response, IDLE's DONE). */
  #awaitingClient = false;
  /** When the command being assembled started arriving. */
  #commandStart: number | undefined;
  /** RFC 5161 ENABLE / RFC 7162 §3.1: CONDSTORE is on once a client used or enabled it. */
  condstore = false;
  /** Resolves when the session has ended and released everything. */
  readonly done: Promise<void>;

  constructor(sock: Socket, env: ImapSessionEnv) {
    this.env = env;
    this.#sock = sock;
    this.remoteAddress = sock.remoteAddress ?? '';
    this.#secure = env.tlsMode === 'implicit';
    this.#framer = new CommandFramer({
      maxLineLength: env.limits.maxLineLength,
      maxLiterals: 64,
      literalLimit: (first) => this.#literalLimit(first),
      reserve: (n) => this.#reserve(n),
      release: (n) => this.#release(n),
    });
    this.#attach(sock);
    this.done = this.#run();
  }

  get state(): ImapState {
    return this.#state;
  }

  get user(): string | undefined {
    return this.#user;
  }

  get secure(): boolean {
    return this.#secure;
  }

  get canStartTls(): boolean {
    return this.env.tlsMode === 'starttls' && !this.#secure;
  }

  /** RFC 3501 §6.2.3: LOGINDISABLED (and no AUTH=) until TLS, unless configured otherwise. */
  get authAllowed(): boolean {
    return this.#secure || this.env.allowPlaintextAuth;
  }

  get selected(): SelectedMailbox | undefined {
    return this.#selected;
  }

  get store(): MailStore {
    return this.env.runtime.services.get(MAIL_STORE);
  }

  get closed(): boolean {
    return this.#closed;
  }

  capabilities(): string[] {
    const caps = ['IMAP4rev1', 'LITERAL+', 'SASL-IR', 'ID', 'ENABLE', 'IDLE'];
    if (this.#state === 'notauth') {
      if (this.canStartTls) caps.push('STARTTLS');
      if (this.authAllowed) caps.push('AUTH=PLAIN');
      else caps.push('LOGINDISABLED');
      return caps;
    }
    caps.push('NAMESPACE', 'UIDPLUS', 'MOVE', 'SPECIAL-USE', 'UNSELECT', 'CHILDREN', 'LIST-EXTENDED', 'LIST-STATUS', 'CONDSTORE',
      `APPENDLIMIT=${this.env.limits.maxLiteralSize}`);
    return caps;
  }

  /** Server stop: BYE and close (RFC 3501 §7.1.5). */
  shutdown(): void {
    if (this.#closed) return;
    this.#endReason = 'shutdown';
    this.#sock.write('* BYE Server shutting down\r\n');
    this.#close();
  }

  // ---- socket ----

  readonly #onData = (chunk: Buffer): void => {
    // While a command runs the server is the slow one; the client's clock runs only when it owes us input.
    if (!this.#busy || this.#awaitingClient) this.#armIdle();
    let events: FrameEvent[];
    try {
      events = this.#framer.push(chunk);
    } catch (err) {
      this.env.log.warn({ event: 'imap.framing_error', session: this.env.id, err: (err as Error).message }, 'framing failed');
      this.#sock.destroy();
      return;
    }
    for (const ev of events) this.#queue.push(ev);
    if (this.#tooSlow()) return;
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
    this.env.log.debug({ event: 'imap.socket_error', session: this.env.id, err: err.message }, 'socket error');
    this.#endReason = 'error';
    this.#sock.destroy();
  };

  #attach(sock: Socket): void {
    sock.on('data', this.#onData);
    sock.on('close', this.#onClose);
    sock.on('error', this.#onError);
  }

  /**
   * A command trickling in (a byte now and then keeps the idle timer happy) gets the same time
   * budget in total: the connection is dropped when one command takes longer than the idle timeout.
   */
  #tooSlow(): boolean {
    if (this.#framer.buffered === 0) {
      this.#commandStart = undefined;
      return false;
    }
    const now = Date.now();
    this.#commandStart ??= now;
    if (now - this.#commandStart <= this.#timeoutMs()) return false;
    this.#endReason = 'command too slow';
    this.env.metrics.inc('imap_timeouts_total');
    this.#sock.write('* BYE Command took too long to arrive\r\n');
    this.#close();
    return true;
  }

  #timeoutMs(): number {
    return this.#state === 'notauth' ? this.env.limits.preAuthTimeoutMs : this.env.limits.idleTimeoutMs;
  }

  /** Wake whoever waits for input or for a mailbox change (IDLE). */
  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  /** Literal bytes this session holds against the service's budget. */
  #reserved = 0;

  #reserve(n: number): boolean {
    if (!this.env.literalBudget.reserve(n)) return false;
    this.#reserved += n;
    return true;
  }

  #release(n: number): void {
    const r = Math.min(n, this.#reserved);
    this.#reserved -= r;
    this.env.literalBudget.release(r);
  }

  /** Drop queued input (STARTTLS, end of session), giving back the literal bytes it held. */
  #dropQueued(): void {
    for (const ev of this.#queue) if (ev.kind === 'command') this.#release(literalBytes(ev.segments));
    this.#queue.length = 0;
  }

  #literalLimit(first: Buffer): number {
    if (this.#state === 'notauth') return Math.min(SMALL_LITERAL, this.env.limits.maxLiteralSize);
    const words = first.subarray(0, 64).toString('latin1').split(' ');
    return words[1]?.toUpperCase() === 'APPEND' ? this.env.limits.maxLiteralSize : SMALL_LITERAL;
  }

  /** RFC 3501 §5.4: the autologout timer is at least 30 minutes once logged in. */
  #armIdle(): void {
    if (this.#closed) return;
    if (this.#idle) clearTimeout(this.#idle);
    const ms = this.#timeoutMs();
    this.#idle = setTimeout(() => {
      this.#endReason = 'idle timeout';
      this.env.metrics.inc('imap_timeouts_total');
      this.#sock.write('* BYE Autologout; idle for too long\r\n');
      this.#close();
    }, ms);
  }

  #close(): void {
    if (this.#closed) return;
    this.#sock.end();
    if (!this.#killer) {
      this.#killer = setTimeout(() => this.#sock.destroy(), 2000);
      this.#killer.unref();
    }
  }

  // ---- output ----

  /** Queue output; written when the batch is large or at the next tagged response. */
  async send(data: string | Buffer): Promise<void> {
    if (typeof data === 'string') {
      this.#outText += data;
      // Characters, not bytes (UTF-8 may take up to 3 per character): a rough batch bound, cheap to keep.
      this.#outBytes += data.length;
    } else {
      this.#takeText();
      this.#out.push(data);
      this.#outBytes += data.length;
    }
    if (this.#outBytes >= BATCH_BYTES) await this.flushOutput();
  }

  #takeText(): void {
    if (this.#outText === '') return;
    this.#out.push(Buffer.from(this.#outText, 'utf8'));
    this.#outText = '';
  }

  /** An untagged response line: `* text`. */
  untagged(text: string): Promise<void> {
    return this.send(`* ${text}\r\n`);
  }

  async tagged(tag: string, status: 'OK' | 'NO' | 'BAD', text: string): Promise<void> {
    await this.send(`${tag} ${status} ${text}\r\n`);
    await this.flushOutput();
  }

  async flushOutput(): Promise<void> {
    this.#takeText();
    if (!this.#out.length) return;
    const data = this.#out.length === 1 ? this.#out[0] : Buffer.concat(this.#out);
    this.#out = [];
    this.#outBytes = 0;
    if (this.#closed || this.#sock.destroyed || this.#sock.writableEnded) return;
    // Backpressure with room for a few batches in flight: waiting for 'drain' after every 64 KiB
    // batch (write() is false past the socket's 16 KiB mark) left the session idle between batches.
    if (this.#sock.write(data) || this.#sock.writableLength <= MAX_UNSENT) return;
    // A client that does not read its responses is as idle as a silent one.
    this.#armIdle();
    const ac = new AbortController();
    try {
      await Promise.race([once(this.#sock, 'drain', { signal: ac.signal }), once(this.#sock, 'close', { signal: ac.signal })]);
    } catch { /* aborted or errored: the close handler takes over */ } finally {
      ac.abort();
    }
    if (this.#busy && !this.#awaitingClient) this.#stopIdle();
    else this.#armIdle();
  }

  #stopIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
  }

  /** Run `wait` as time the client owes us: the autologout timer runs meanwhile. */
  async #clientTurn<T>(wait: () => Promise<T>): Promise<T> {
    this.#awaitingClient = true;
    this.#armIdle();
    try {
      return await wait();
    } finally {
      this.#awaitingClient = false;
      if (this.#busy) this.#stopIdle();
    }
  }

  // ---- input ----

  async #nextEvent(): Promise<FrameEvent | undefined> {
    for (;;) {
      const ev = this.#queue.shift();
      if (ev) {
        if (this.#queue.length < MAX_QUEUED / 2 && !this.#closed) this.#sock.resume();
        return ev;
      }
      if (this.#closed) return undefined;
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  /** One continuation line (AUTHENTICATE response, IDLE's DONE); undefined when the connection went. */
  nextLine(): Promise<string | undefined> {
    return this.#clientTurn(() => this.#nextLine());
  }

  async #nextLine(): Promise<string | undefined> {
    for (;;) {
      const ev = await this.#nextEvent();
      if (!ev) return undefined;
      if (ev.kind === 'command') return ev.segments.map((s) => s.line.toString('utf8')).join('');
      if (ev.kind === 'reject') return '';
    }
  }

  /**
   * IDLE: wait until input arrives or the selected mailbox changes. Returns 'input' when a line is
   * waiting, 'change' for a change, 'closed' when the connection went.
   */
  waitInputOrChange(): Promise<'input' | 'change' | 'closed'> {
    return this.#clientTurn(() => this.#waitInputOrChange());
  }

  async #waitInputOrChange(): Promise<'input' | 'change' | 'closed'> {
    for (;;) {
      if (this.#queue.length) return 'input';
      if (this.#closed) return 'closed';
      if (this.#selected?.hasPending) return 'change';
      await new Promise<void>((resolve) => (this.#waiter = resolve));
    }
  }

  // ---- the session ----

  async #run(): Promise<void> {
    const env = this.env;
    env.metrics.inc('imap_sessions_total', { listener: env.listener });
    this.#armIdle();
    try {
      // RFC 3501 §7.1.1: no software name or version.
      await this.untagged(`OK [CAPABILITY ${this.capabilities().join(' ')}] IMAP4rev1 ready`);
      await this.flushOutput();
      for (;;) {
        const ev = await this.#nextEvent();
        if (!ev) break;
        if (ev.kind === 'continue') {
          await this.send('+ Ready for literal data\r\n');
          await this.flushOutput();
        } else if (ev.kind === 'reject') {
          await this.tagged(ev.tag, ev.status, ev.text);
          await this.clientError();
        } else {
          this.#busy = true;
          this.#stopIdle();
          try {
            await this.#command(ev.segments);
          } finally {
            this.#release(literalBytes(ev.segments));
            this.#busy = false;
            this.#armIdle();
          }
          if (this.#failedLogins >= MAX_FAILED_LOGINS && this.#state === 'notauth') {
            this.#endReason = 'too many failed logins';
            await this.untagged('BYE Too many failed logins');
            await this.flushOutput();
            this.#close();
          }
        }
        if (this.#state === 'logout' || this.#closed) break;
      }
    } catch (err) {
      this.#endReason = 'error';
      env.log.warn({ event: 'imap.session_error', session: env.id, err: (err as Error).message }, 'session failed');
      this.#sock.destroy();
    } finally {
      await this.#end();
    }
  }

  async #command(segments: readonly Segment[]): Promise<void> {
    const c = new Cursor(segments);
    let tag = '*';
    try {
      tag = c.chars((ch) => ch > 0x20 && ch < 0x7f && ch !== 0x28 && ch !== 0x29 && ch !== 0x7b && ch !== 0x25 && ch !== 0x2a && ch !== 0x22 && ch !== 0x5c && ch !== 0x2b, 'a tag');
      c.sp();
      await dispatch(this, tag, c);
    } catch (err) {
      if (err instanceof ParseError) {
        await this.tagged(tag, 'BAD', err.message);
        await this.clientError();
      } else if (isMailStoreError(err)) {
        const code = err.code === 'NONEXISTENT' ? 'NONEXISTENT' : err.code;
        await this.tagged(tag, 'NO', `[${code}] ${err.message}`);
      } else {
        this.env.log.warn({ event: 'imap.command_failed', session: this.env.id, err: (err as Error).message, stack: (err as Error).stack }, 'command failed');
        await this.tagged(tag, 'NO', '[SERVERBUG] Internal error, try again');
      }
    }
  }

  /** Count a client error; too many end the session. */
  async clientError(): Promise<void> {
    if (++this.#errors >= MAX_ERRORS) {
      this.#endReason = 'too many errors';
      await this.untagged('BYE Too many errors');
      await this.flushOutput();
      this.#close();
    }
  }

  async #end(): Promise<void> {
    const env = this.env;
    await this.flushOutput().catch(() => {});
    if (!this.#closed) this.#close();
    await this.deselect().catch(() => {});
    this.#dropQueued();
    this.#framer.reset();
    // Whatever is still counted (a literal half received when the socket went) goes back too.
    this.#release(this.#reserved);
    if (!this.#closed) await once(this.#sock, 'close').catch(() => {});
    if (this.#idle) clearTimeout(this.#idle);
    env.log.info({ event: 'imap.session_end', session: env.id, remote: this.remoteAddress, user: this.#user ?? null, reason: this.#endReason }, `imap session ended (${this.#endReason})`);
  }

  // ---- state changes used by commands ----

  async logout(tag: string): Promise<void> {
    this.#endReason = 'logout';
    await this.untagged('BYE Logging out');
    await this.tagged(tag, 'OK', 'LOGOUT completed');
    this.#state = 'logout';
    this.#close();
  }

  async startTls(tag: string): Promise<void> {
    const raw = this.#sock;
    // RFC 3501 §6.2.1 / CVE-2011-0411: nothing pipelined before the handshake is acted on.
    raw.removeListener('data', this.#onData);
    raw.pause();
    this.#dropQueued();
    this.#framer.reset();
    await this.tagged(tag, 'OK', 'Begin TLS negotiation now');
    if (this.#closed) return;
    raw.removeListener('close', this.#onClose);
    raw.removeListener('error', this.#onError);
    raw.on('error', () => {});
    const secure = new tls.TLSSocket(raw, { isServer: true, secureContext: this.env.secureContext });
    this.#sock = secure;
    this.#attach(secure);
    secure.once('secure', () => {
      this.#secure = true;
      this.#armIdle();
    });
  }

  /** auth.verify, then auth.login / auth.failed, like SMTP and POP3. */
  async login(mechanism: string, creds: Credentials): Promise<LoginResult> {
    const env = this.env;
    const hooks = env.runtime.hooks;
    const attempt: AuthAttempt = { protocol: 'imap', mechanism, remoteAddress: this.remoteAddress, secure: this.#secure, sessionId: env.id };
    const trace = { log: env.log };
    const v = (await hooks.auth.verify.call(attempt, creds, trace)) ?? { kind: 'fail' as const };
    if (this.#closed) return 'closed';
    if (v.kind !== 'ok') {
      env.metrics.inc('auth_total', { protocol: 'imap', result: v.kind });
      env.log.info({ event: 'auth.failed', session: env.id, username: creds.username, mechanism, result: v.kind, reason: v.reason }, 'authentication failed');
      await hooks.auth.failed.call(attempt, { username: creds.username }, trace);
      ++this.#failedLogins;
      return v.kind;
    }
    this.#user = v.user;
    this.#state = 'auth';
    this.#armIdle();
    env.metrics.inc('auth_total', { protocol: 'imap', result: 'ok' });
    env.log.info({ event: 'auth.ok', session: env.id, user: v.user, mechanism }, 'authenticated');
    await hooks.auth.login.call(attempt, { user: v.user, mechanism }, trace);
    return 'ok';
  }

  /** SELECT / EXAMINE: the previous mailbox is closed first (RFC 3501 §6.3.1). */
  async select(folder: string, readOnly: boolean): Promise<SelectedMailbox> {
    await this.deselect();
    const view = await this.store.open(this.#user!, folder, { readOnly });
    const sel = new SelectedMailbox(this.store, view, () => this.#wake(), this.env.uidLists);
    this.#selected = sel;
    this.#state = 'selected';
    return sel;
  }

  async deselect(): Promise<void> {
    const sel = this.#selected;
    this.#selected = undefined;
    if (this.#state === 'selected') this.#state = 'auth';
    if (sel) await sel.close();
  }

  /** Send the untagged updates due now (EXPUNGE only where allowed, RFC 3501 §7.4.1). */
  async flushUpdates(expunge: boolean): Promise<void> {
    const sel = this.#selected;
    if (!sel) return;
    if (sel.gone) {
      // The mailbox was deleted or renamed by another session: nothing here is valid any more.
      this.#endReason = 'mailbox gone';
      await this.untagged('BYE Selected mailbox was deleted or renamed');
      await this.flushOutput();
      this.#state = 'logout';
      this.#close();
      return;
    }
    for (const line of sel.flush({ expunge, modseq: this.condstore })) await this.send(line + '\r\n');
  }
}

function literalBytes(segments: readonly Segment[]): number {
  let n = 0;
  for (const seg of segments) n += seg.literal?.length ?? 0;
  return n;
}
