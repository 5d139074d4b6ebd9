import net from 'node:net';
import tls from 'node:tls';

/**
 * A raw SMTP client for exact protocol tests: send bytes, read whole replies (multi-line
 * aware), upgrade to TLS. Every wait is bounded.
 */
export class Dialogue {
  #socket: net.Socket | tls.TLSSocket;
  #buf = '';
  #waiters: Array<() => void> = [];
  closed = false;

  private constructor(socket: net.Socket | tls.TLSSocket) {
    this.#socket = socket;
    this.#attach(socket);
  }

  #attach(socket: net.Socket | tls.TLSSocket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.#buf += d;
      this.#wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
    socket.on('error', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake() {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  /** `localAddress` picks the client's address (any 127.0.0.x), so one server sees several clients. */
  static async connect(port: number, opts: { tls?: boolean; host?: string; localAddress?: string } = {}): Promise<Dialogue> {
    const host = opts.host ?? '127.0.0.1';
    const local = opts.localAddress ? { localAddress: opts.localAddress } : {};
    const socket = opts.tls
      ? tls.connect({ host, port, rejectUnauthorized: false, servername: 'localhost', ...local })
      : net.connect({ host, port, ...local });
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    return new Dialogue(socket);
  }

  write(data: string | Buffer): void {
    this.#socket.write(data);
  }

  /** Send a command line (CRLF added) and read its reply. */
  async cmd(line: string, timeoutMs = 10_000): Promise<string> {
    this.write(line + '\r\n');
    return this.reply(timeoutMs);
  }

  /** Read one complete reply: lines "NNN-..." until "NNN ...". */
  async reply(timeoutMs = 10_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n/.exec(this.#buf);
      if (m) {
        this.#buf = this.#buf.slice(m[0].length);
        return m[0].replace(/\r\n$/, '');
      }
      if (this.closed) throw new Error(`connection closed; pending: ${JSON.stringify(this.#buf)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no reply within ${timeoutMs} ms; pending: ${JSON.stringify(this.#buf)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Resolve when the server closes the connection (bounded). */
  async waitClosed(timeoutMs = 10_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    return this.closed;
  }

  /** STARTTLS: the reply must be 220, then the socket is wrapped. */
  async startTls(): Promise<string> {
    const r = await this.cmd('STARTTLS');
    if (!r.startsWith('220')) return r;
    const plain = this.#socket;
    plain.removeAllListeners('data');
    const secure = tls.connect({ socket: plain, rejectUnauthorized: false, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
    });
    this.#socket = secure;
    this.#attach(secure);
    return r;
  }

  close(): void {
    this.#socket.destroy();
  }
}
