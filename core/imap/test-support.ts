/**
 * Test helpers for core/imap: a raw IMAP client over a real socket that reads responses exactly as
 * sent (literals included) for transcript assertions, with bounded waits only, and a server setup.
 */
import { ImapFlow } from 'imapflow';
import { WireClient } from '../testing/wire-client.ts';
import { startTestServer } from '../testing/server-harness.ts';
import { addUser } from '../../test/helpers/mail.ts';

const WAIT_MS = 10_000;
export const PLUGINS = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['imap.test'] }, maildir: {} };
export const ALICE = 'alice@imap.test';
export const ALICE_PASSWORD = 'alice password 1';
export const BOB = 'bob@imap.test';
export const BOB_PASSWORD = 'bob password 2';

/** A whole server (SMTP, POP3, IMAP on port 0) with two users. */
export async function startImapServer(config: Record<string, unknown> = {}) {
  return startTestServer({
    config: { plugins: PLUGINS, ...config },
    setup: async (dir) => {
      await addUser(dir, ALICE, ALICE_PASSWORD);
      await addUser(dir, BOB, BOB_PASSWORD);
    },
  });
}

/** imapflow connected and logged in (STARTTLS on the plain listener, or implicit TLS). */
export async function flow(port: number, user = ALICE, pass = ALICE_PASSWORD, secure = false): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: '127.0.0.1', port, secure, auth: { user, pass }, logger: false,
    tls: { rejectUnauthorized: false }, connectionTimeout: WAIT_MS, greetingTimeout: WAIT_MS, socketTimeout: 60_000,
    ...(secure ? {} : { doSTARTTLS: true }),
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** One response unit: a line, with the literals it carried spliced in. */
export class ImapWire extends WireClient {
  #tag = 0;

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<ImapWire> {
    return new ImapWire(await WireClient.open(port, opts));
  }

  /** The next response line with any literals inline (`{n}\r\n<bytes>` kept as sent). */
  readResponse(ms = WAIT_MS): Promise<string> {
    return this.until(() => {
      let pos = 0;
      for (;;) {
        const lf = this.buf.indexOf(0x0a, pos);
        if (lf < 0) return undefined;
        const line = this.buf.subarray(pos, lf + 1).toString('latin1');
        const m = /\{(\d+)\}\r\n$/.exec(line);
        if (!m) {
          const out = this.buf.subarray(0, lf - 1).toString('latin1');
          this.buf = this.buf.subarray(lf + 1);
          return out;
        }
        const end = lf + 1 + Number(m[1]);
        if (this.buf.length < end) return undefined;
        pos = end;
      }
    }, 'a response', ms);
  }

  /** True when nothing arrives within `ms` (used only to show something is NOT sent). */
  async silentFor(ms: number): Promise<boolean> {
    await new Promise((r) => setTimeout(r, ms));
    return this.buf.length === 0;
  }

  nextTag(): string {
    return `A${++this.#tag}`;
  }

  /** Read responses until the tagged one for `tag`; returns all of them, tagged last. */
  async untilTagged(tag: string): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < 100_000; i++) {
      const r = await this.readResponse();
      out.push(r);
      if (r.startsWith(tag + ' ')) return out;
    }
    throw new Error('too many responses');
  }

  /** Send `TAG text` and read to its tagged response. */
  async command(text: string): Promise<string[]> {
    const tag = this.nextTag();
    this.write(`${tag} ${text}\r\n`);
    return this.untilTagged(tag);
  }

  async startTls(): Promise<string[]> {
    const r = await this.command('STARTTLS');
    if (!/ OK /.test(r[r.length - 1])) return r;
    await this.upgrade();
    return r;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.destroy();
    await this.waitClosed().catch(() => {});
  }
}

/** The last line of a command's responses (the tagged one). */
export function tagged(lines: readonly string[]): string {
  return lines[lines.length - 1];
}
