/**
 * A raw line client for protocol transcripts in tests (IMAP, POP3): one socket to 127.0.0.1, the
 * bytes received so far in `buf`, and `until(take)` to wait — bounded — until `take` can cut what
 * it wants from the buffer. Subclasses add the protocol's framing (lines, literals, dot bodies).
 */
import net from 'node:net';
import tls from 'node:tls';

export const WIRE_WAIT_MS = 10_000;

export abstract class WireClient {
  protected sock: net.Socket;
  protected buf = Buffer.alloc(0);
  #waiter: (() => void) | undefined;
  #closed = false;

  protected constructor(sock: net.Socket) {
    this.sock = sock;
    this.#attach(sock);
  }

  /** A connected socket (TLS from the first byte with `tls`), for a subclass's `connect`. */
  protected static async open(port: number, opts: { tls?: boolean } = {}): Promise<net.Socket> {
    const sock = opts.tls
      ? tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' })
      : net.connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      sock.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      sock.once('error', reject);
    });
    return sock;
  }

  #attach(sock: net.Socket): void {
    sock.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.#wake();
    });
    sock.on('close', () => {
      this.#closed = true;
      this.#wake();
    });
    sock.on('error', () => {});
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get encrypted(): boolean {
    return this.sock instanceof tls.TLSSocket;
  }

  /** Wait until `take` returns a value (or the connection closes, or `ms` pass: both throw). */
  protected async until<T>(take: () => T | undefined, what: string, ms = WIRE_WAIT_MS): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = take();
      if (v !== undefined) return v;
      if (this.#closed) throw new Error(`connection closed while waiting for ${what}; buffered: ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; buffered: ${JSON.stringify(this.buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  write(data: string | Buffer): void {
    this.sock.write(data);
  }

  /** The TLS handshake over the current socket (after the server's go-ahead to STARTTLS/STLS). */
  async upgrade(): Promise<void> {
    this.sock.removeAllListeners('data');
    this.sock.removeAllListeners('close');
    const secure = tls.connect({ socket: this.sock, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.sock = secure;
    this.#attach(secure);
  }

  /** Resolves when the server closed the connection (bounded). */
  async waitClosed(ms = WIRE_WAIT_MS): Promise<void> {
    await this.until(() => (this.#closed ? true : undefined), 'the server to close', ms);
  }

  /** Drop the connection without a goodbye. */
  destroy(): void {
    this.sock.destroy();
  }
}
