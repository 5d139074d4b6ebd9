import type { Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { ReplyFormatError, ReplyParser, type SmtpReply } from './smtp-reply.ts';

/** The connection failed without an SMTP reply: network (closed, reset, timeout) or protocol (garbage). */
export class WireError extends Error {
  constructor(message: string, readonly kind: 'network' | 'protocol' | 'tls') {
    super(message);
  }
}

interface Waiter {
  readonly count: number;
  readonly got: SmtpReply[];
  readonly resolve: (r: SmtpReply[]) => void;
  readonly reject: (e: WireError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * One SMTP client socket: writes commands and hands out the replies in order. The number of
 * replies owed is counted from the commands written, so a reply nobody asked for (or any byte
 * after STARTTLS's 220 before the handshake, RFC 3207 §5) is a protocol error, not a buffer
 * that grows. Once failed (error, close, timeout, garbage) it stays failed: every wait rejects.
 */
export class SmtpWire {
  #socket: Socket;
  readonly #parser = new ReplyParser();
  /** Replies read and not yet taken. */
  #ready: SmtpReply[] = [];
  /** Replies owed by the server for commands written (the greeting counts as one). */
  #owed = 1;
  #waiter: Waiter | undefined;
  #failed: WireError | undefined;
  readonly #onData = (chunk: Buffer) => this.#data(chunk);
  readonly #onError = (err: Error) => this.fail(new WireError(`connection error: ${err.message}`, 'network'));
  readonly #onClose = () => this.fail(new WireError('connection closed by the server', 'network'));

  constructor(socket: Socket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  get socket(): Socket {
    return this.#socket;
  }

  get failed(): WireError | undefined {
    return this.#failed;
  }

  /** Nothing owed and nothing held: the connection is between commands. */
  get idle(): boolean {
    return !this.#failed && this.#owed === 0 && !this.#ready.length && !this.#parser.pending;
  }

  #attach(s: Socket): void {
    s.on('data', this.#onData);
    s.on('error', this.#onError);
    s.on('close', this.#onClose);
  }

  #detach(s: Socket): void {
    s.off('data', this.#onData);
    s.off('error', this.#onError);
    s.off('close', this.#onClose);
  }

  #data(chunk: Buffer): void {
    if (this.#failed) return;
    let replies: SmtpReply[];
    try {
      replies = this.#parser.push(chunk);
    } catch (err) {
      this.fail(new WireError(err instanceof ReplyFormatError ? `bad reply: ${err.message}` : String(err), 'protocol'));
      return;
    }
    for (const r of replies) {
      if (this.#owed === 0) {
        this.fail(new WireError(`unexpected reply: ${r.lines[0]?.slice(0, 80) ?? ''}`, 'protocol'));
        return;
      }
      this.#owed--;
      const w = this.#waiter;
      if (w) {
        w.got.push(r);
        w.timer.refresh();
        if (w.got.length === w.count) {
          this.#waiter = undefined;
          clearTimeout(w.timer);
          w.resolve(w.got);
        }
      } else this.#ready.push(r);
    }
  }

  /** Fail the connection for good: the socket is destroyed and any wait rejects. */
  fail(err: WireError): void {
    if (this.#failed) return;
    this.#failed = err;
    this.#socket.destroy();
    const w = this.#waiter;
    this.#waiter = undefined;
    if (w) {
      clearTimeout(w.timer);
      w.reject(err);
    }
  }

  /** Write commands (or a message body ending in its terminator) and count the replies they owe. */
  write(data: string | Buffer, replies: number): boolean {
    if (this.#failed) throw this.#failed;
    this.#owed += replies;
    return this.#socket.write(data);
  }

  /**
   * The next `count` replies, in order. The timeout restarts at each reply (the wait is per
   * reply, RFC 5321 §4.5.3.2), and fails the connection when it fires.
   */
  replies(count: number, timeoutMs: number): Promise<SmtpReply[]> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (count > this.#ready.length + this.#owed) return Promise.reject(new WireError('waiting for a reply no command asked for', 'protocol'));
    if (this.#ready.length >= count) return Promise.resolve(this.#ready.splice(0, count));
    if (this.#waiter) return Promise.reject(new WireError('two waits at once', 'protocol'));
    const got = this.#ready;
    this.#ready = [];
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(new WireError(`no reply within ${timeoutMs} ms`, 'network')), timeoutMs);
      this.#waiter = { count, got, resolve, reject, timer };
    });
  }

  async reply(timeoutMs: number): Promise<SmtpReply> {
    const [r] = await this.replies(1, timeoutMs);
    return r;
  }

  /** Wait until the socket takes more (backpressure), bounded like a reply wait. */
  drain(timeoutMs: number): Promise<void> {
    if (this.#failed) return Promise.reject(this.#failed);
    const s = this.#socket;
    return new Promise((resolve, reject) => {
      const done = (err?: WireError) => {
        clearTimeout(timer);
        s.off('drain', onDrain);
        s.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(this.#failed ?? new WireError('connection closed by the server', 'network'));
      const timer = setTimeout(() => {
        this.fail(new WireError(`the server stopped reading the message for ${timeoutMs} ms`, 'network'));
        done(this.#failed);
      }, timeoutMs);
      s.on('drain', onDrain);
      s.on('close', onClose);
    });
  }

  /** STARTTLS (RFC 3207): after its 220, the handshake over the same socket; replies then come over TLS. */
  async upgrade(options: ConnectionOptions, timeoutMs: number): Promise<TLSSocket> {
    if (this.#failed) throw this.#failed;
    // RFC 3207 §5: anything the server sent after the 220 came before the handshake: injected.
    if (!this.idle) {
      const err = new WireError('data after the STARTTLS reply, before the TLS handshake', 'protocol');
      this.fail(err);
      throw err;
    }
    const plain = this.#socket;
    this.#detach(plain);
    const secure = tlsConnect({ ...options, socket: plain });
    this.#socket = secure;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new WireError(`TLS handshake not done within ${timeoutMs} ms`, 'tls')), timeoutMs);
        const settle = (err?: Error) => {
          clearTimeout(timer);
          secure.off('secureConnect', onOk);
          secure.off('error', onErr);
          secure.off('close', onClose);
          if (err) reject(err instanceof WireError ? err : new WireError(`TLS handshake failed: ${err.message}`, 'tls'));
          else resolve();
        };
        const onOk = () => settle();
        const onErr = (e: Error) => settle(e);
        const onClose = () => settle(new WireError('connection closed during the TLS handshake', 'tls'));
        secure.once('secureConnect', onOk);
        secure.once('error', onErr);
        secure.once('close', onClose);
      });
    } catch (err) {
      secure.on('error', () => {});
      plain.on('error', () => {});
      this.fail(err as WireError);
      plain.destroy();
      throw err;
    }
    this.#attach(secure);
    return secure;
  }

  /** QUIT (RFC 5321 §4.1.1.10) when between commands, then close; at most `graceMs` later, destroy. */
  quit(graceMs: number): void {
    if (this.#failed) return;
    if (!this.idle) {
      this.fail(new WireError('connection closed', 'network'));
      return;
    }
    const s = this.#socket;
    this.#failed = new WireError('connection closed', 'network');
    this.#detach(s);
    s.on('error', () => {});
    s.end('QUIT\r\n');
    const t = setTimeout(() => s.destroy(), graceMs);
    t.unref();
    s.once('close', () => clearTimeout(t));
  }
}
