// A minimal IMAP client over a raw socket for the benchmark: tagged commands, literals in responses
// skipped correctly, synchronising literals for APPEND, IDLE. Loopback only; every wait is bounded.
import net from 'node:net';

const LOOPBACK = '127.0.0.1';

export interface Reply {
  readonly status: string;
  readonly text: string;
  /** Untagged response lines (literal bytes left out), when the caller asked to keep them. */
  readonly untagged: string[];
  /** Untagged responses counted (kept or not). */
  readonly count: number;
}

export class ImapClient {
  private buf: Buffer = Buffer.alloc(0);
  private literalLeft = 0;
  private line = '';
  private waiter: (() => void) | undefined;
  private closed = false;
  private tagN = 0;
  private readonly events: { kind: 'line'; text: string }[] = [];

  private constructor(private readonly sock: net.Socket) {
    sock.setNoDelay(true);
    sock.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.parse();
      this.wake();
    });
    sock.on('close', () => {
      this.closed = true;
      this.wake();
    });
    sock.on('error', () => {});
  }

  static async connect(port: number, timeoutMs = 30_000): Promise<ImapClient> {
    const sock = net.connect({ host: LOOPBACK, port });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connect timeout')), timeoutMs);
      sock.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      sock.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
    });
    const c = new ImapClient(sock);
    const greeting = await c.nextLine(timeoutMs);
    if (!greeting.startsWith('* OK') && !greeting.startsWith('* PREAUTH')) throw new Error(`bad greeting: ${greeting}`);
    return c;
  }

  /** Splits the byte stream into lines; a `{n}` at a line's end swallows n literal bytes into it. */
  private parse(): void {
    let pos = 0;
    for (;;) {
      if (this.literalLeft > 0) {
        const take = Math.min(this.literalLeft, this.buf.length - pos);
        this.literalLeft -= take;
        pos += take;
        if (this.literalLeft > 0) break;
        continue;
      }
      const nl = this.buf.indexOf('\r\n', pos);
      if (nl < 0) break;
      this.line += this.buf.toString('utf8', pos, nl);
      pos = nl + 2;
      const m = /\{(\d+)\+?\}$/.exec(this.line);
      if (m) {
        this.literalLeft = Number(m[1]);
        this.line += ' ';
        continue;
      }
      this.events.push({ kind: 'line', text: this.line });
      this.line = '';
    }
    this.buf = pos >= this.buf.length ? Buffer.alloc(0) : this.buf.subarray(pos);
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  private async nextLine(timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const e = this.events.shift();
      if (e) return e.text;
      if (this.closed) throw new Error('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a response');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Sends a command (no literal) and waits for its tagged reply. */
  async command(text: string, opts: { keep?: boolean; timeoutMs?: number } = {}): Promise<Reply> {
    const tag = `b${++this.tagN}`;
    this.sock.write(`${tag} ${text}\r\n`);
    return this.until(tag, opts.keep ?? false, opts.timeoutMs ?? 600_000);
  }

  private async until(tag: string, keep: boolean, timeoutMs: number): Promise<Reply> {
    const untagged: string[] = [];
    let count = 0;
    for (;;) {
      const line = await this.nextLine(timeoutMs);
      if (line.startsWith(`${tag} `)) {
        const [status = '', ...rest] = line.slice(tag.length + 1).split(' ');
        return { status, text: rest.join(' '), untagged, count };
      }
      if (line.startsWith('* ')) {
        count++;
        if (keep) untagged.push(line);
      }
    }
  }

  /** APPEND with a synchronising literal (waits for the server's continuation). */
  async append(folder: string, message: Buffer, flags = '', timeoutMs = 60_000): Promise<Reply> {
    const tag = `b${++this.tagN}`;
    this.sock.write(`${tag} APPEND ${folder}${flags ? ` (${flags})` : ''} {${message.length}}\r\n`);
    for (;;) {
      const line = await this.nextLine(timeoutMs);
      if (line.startsWith('+')) break;
      if (line.startsWith(`${tag} `)) return { status: line.split(' ')[1] ?? '', text: line, untagged: [], count: 0 };
    }
    this.sock.write(Buffer.concat([message, Buffer.from('\r\n')]));
    return this.until(tag, false, timeoutMs);
  }

  /** Enters IDLE and returns once the server says it is idling. */
  async idle(timeoutMs = 60_000): Promise<void> {
    const tag = `b${++this.tagN}`;
    this.sock.write(`${tag} IDLE\r\n`);
    for (;;) {
      const line = await this.nextLine(timeoutMs);
      if (line.startsWith('+')) return;
      if (line.startsWith(`${tag} `)) throw new Error(`IDLE refused: ${line}`);
    }
  }

  close(): void {
    this.sock.destroy();
  }
}
