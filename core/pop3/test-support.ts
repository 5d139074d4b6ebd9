/**
 * Test helpers for core/pop3: a real Runtime with auth-file and maildir, a Pop3Service on
 * 127.0.0.1 port 0, and a small raw POP3 line client (bounded waits only).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import authFile from '../../plugins/auth-file/index.ts';
import maildir from '../../plugins/maildir/index.ts';
import { addUser } from '../../test/helpers/mail.ts';
import { RootSchema, type RootConfigInput } from '../config/schema.ts';
import { memoryLogger } from '../testing/memory-log.ts';
import { Metrics } from '../metrics.ts';
import { createPluginHarness } from '../testing/plugin-harness.ts';
import { MAIL_STORE, INBOX, type MailStore } from '../store/mail-store.ts';
import type { TlsMaterial } from '../tls.ts';
import { Pop3Service } from './service.ts';
import { WireClient } from '../testing/wire-client.ts';

export const ALICE = 'alice@example.test';
export const ALICE_PASSWORD = 'correct horse battery';
export const BOB = 'bob@example.test';
export const BOB_PASSWORD = 'bob password 123';
export const CAROL = 'carol@example.test';
export const CAROL_PASSWORD = 'carol password 456';
const WAIT_MS = 10_000;

let tlsPair: Promise<TlsMaterial> | undefined;
export function testTls(): Promise<TlsMaterial> {
  tlsPair ??= generate([{ name: 'commonName', value: 'localhost' }], { keySize: 2048, algorithm: 'sha256' })
    .then((p) => ({ key: Buffer.from(p.private), cert: Buffer.from(p.cert), origin: 'test' }));
  return tlsPair;
}

export type Pop3Overrides = Partial<NonNullable<RootConfigInput['pop3']>>;

/** One data dir, users, plugins; start any number of Pop3Service instances on it. */
export async function createPop3World() {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-pop3-'));
  await addUser(dataDir, ALICE, ALICE_PASSWORD);
  await addUser(dataDir, BOB, BOB_PASSWORD);
  await addUser(dataDir, CAROL, CAROL_PASSWORD);
  const harness = await createPluginHarness({ plugins: [[authFile, {}], [maildir, {}]], dataDir });
  const store: MailStore = harness.services.get(MAIL_STORE);
  const tlsMaterial = await testTls();
  const services: Pop3Service[] = [];
  const { log, lines: logs } = memoryLogger();
  const metrics = new Metrics();

  return {
    dataDir,
    store,
    logs,
    metrics,
    harness,
    async start(overrides: Pop3Overrides = {}): Promise<{ service: Pop3Service; plain: number; implicit: number }> {
      const config = RootSchema.parse({
        dataDir,
        hostname: 'mx.test',
        pop3: {
          listeners: {
            pop3: { tls: 'starttls', host: '127.0.0.1', port: 0 },
            pop3s: { tls: 'implicit', host: '127.0.0.1', port: 0 },
          },
          ...overrides,
        },
      });
      const service = new Pop3Service({ config: () => config, runtime: () => harness.runtime, tls: tlsMaterial, log, metrics });
      await service.start();
      services.push(service);
      const a = service.addresses();
      return { service, plain: a.pop3?.port ?? 0, implicit: a.pop3s?.port ?? 0 };
    },
    async deliver(user: string, raw: string | Buffer): Promise<number> {
      const r = await store.append(user, INBOX, Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'latin1'));
      return r.uid;
    },
    async inboxUids(user: string): Promise<number[]> {
      const view = await store.open(user, INBOX);
      try {
        await view.refresh();
        return [...view.uids()];
      } finally {
        await view.close();
      }
    },
    async close() {
      for (const s of services) await s.stop();
      await harness.close();
      await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

export type Pop3World = Awaited<ReturnType<typeof createPop3World>>;

/** A raw POP3 client: lines in latin1, multi-line bodies as raw bytes. */
export class Pop3Client extends WireClient {
  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<Pop3Client> {
    return new Pop3Client(await WireClient.open(port, opts));
  }

  /** One response line without its CRLF. */
  readLine(): Promise<string> {
    return this.until(() => {
      const i = this.buf.indexOf('\r\n');
      if (i === -1) return undefined;
      const line = this.buf.subarray(0, i).toString('latin1');
      this.buf = this.buf.subarray(i + 2);
      return line;
    }, 'a line');
  }

  /** The raw bytes of a multi-line body after the first line, up to and including ".\r\n". */
  readBody(): Promise<Buffer> {
    return this.until(() => {
      if (this.buf.subarray(0, 3).equals(Buffer.from('.\r\n'))) {
        const body = this.buf.subarray(0, 3);
        this.buf = this.buf.subarray(3);
        return body;
      }
      const i = this.buf.indexOf('\r\n.\r\n');
      if (i === -1) return undefined;
      const body = this.buf.subarray(0, i + 5);
      this.buf = this.buf.subarray(i + 5);
      return body;
    }, 'a multi-line body');
  }

  /** Body lines of a multi-line response (un-stuffed, terminator dropped). */
  async readLines(): Promise<string[]> {
    return unstuff(await this.readBody()).toString('latin1').split('\r\n').slice(0, -1);
  }

  /** Send a command, return the first response line. */
  async command(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.readLine();
  }

  /** Send a multi-line command; returns the status line and the body lines (empty on -ERR). */
  async multi(line: string): Promise<{ status: string; lines: string[] }> {
    const status = await this.command(line);
    return { status, lines: status.startsWith('+OK') ? await this.readLines() : [] };
  }

  /** STLS and the TLS handshake. */
  async startTls(): Promise<string> {
    const status = await this.command('STLS');
    if (!status.startsWith('+OK')) return status;
    await this.upgrade();
    return status;
  }

  async login(user: string, password: string): Promise<string> {
    const u = await this.command(`USER ${user}`);
    if (!u.startsWith('+OK')) return u;
    return this.command(`PASS ${password}`);
  }


  async quit(): Promise<string> {
    const r = await this.command('QUIT');
    await this.waitClosed();
    return r;
  }
}

/** Undo dot-stuffing of a multi-line body (terminator included) into the message bytes. */
export function unstuff(body: Buffer): Buffer {
  const text = body.toString('latin1');
  if (!text.endsWith('.\r\n')) throw new Error('no terminator');
  const lines = text.slice(0, -3).split('\r\n');
  lines.pop(); // after the last CRLF
  return Buffer.from(lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n') + (lines.length ? '\r\n' : ''), 'latin1');
}

/** Poll until the service has no sessions (a dropped connection's lock is released then). */
export async function waitIdle(service: Pop3Service): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (service.connections > 0) {
    if (Date.now() > deadline) throw new Error('timed out waiting for sessions to end');
    await new Promise((r) => setTimeout(r, 20));
  }
}
