/**
 * Test peers for the outbound tests: real smtp-server instances on 127.0.0.2, 127.0.0.3 … all on
 * one port (the plugin's `port` config), a self-signed certificate per name, real message files.
 */
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { SMTPConnection as ServerConnection } from 'smtp-server/lib/smtp-connection.js';
import type { HeaderRemoval } from '../../core/queue/compose.ts';
import type { RemoteJob } from '../../core/queue/remote.ts';
import type { MailFrom } from '../../core/smtp/types.ts';

export interface Received {
  readonly peer: string;
  readonly from: string;
  readonly to: string[];
  readonly body: string;
  readonly secure: boolean;
  readonly envelope: SMTPServerSession['envelope'];
  readonly sessionId: string;
}

export interface PeerOptions {
  readonly cert?: { key: string; cert: string };
  /** smtp-server options merged in (size, hide*, disabledCommands…). */
  readonly server?: Partial<SMTPServerOptions>;
  /** Answer RCPT TO for this address with this error (code in the text, e.g. "550 5.1.1 no"). */
  readonly rcptError?: (address: string) => { code: number; text: string } | undefined;
  /** Answer the greeting with this code instead of 220 (then the connection closes). */
  readonly greeting?: { code: number; text: string };
  readonly auth?: { user: string; pass: string };
  /** Accept the connection and never greet. */
  readonly stall?: boolean;
}

export interface Peers {
  readonly port: number;
  readonly received: Received[];
  /** Connections accepted, per address. */
  readonly connections: Map<string, number>;
  /** RSET commands seen, per address. */
  readonly resets: Map<string, number>;
  /** Most connections open at once, all addresses together. */
  readonly maxOpen: number;
  close(): Promise<void>;
}

/** RSET counting, per server instance (smtp-server has no RSET callback). */
const resetCounters = new WeakMap<object, () => void>();
// eslint-disable-next-line @typescript-eslint/unbound-method -- kept unbound, called with .call(this)
const origRset = ServerConnection.prototype.handler_RSET;
ServerConnection.prototype.handler_RSET = function (this: ServerConnection, command: Buffer, callback: () => void) {
  resetCounters.get((this as unknown as { _server: object })._server)?.();
  return origRset.call(this, command, callback);
};

function errorWithCode(text: string, code: number): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

async function listenOne(address: string, port: number, opts: PeerOptions, peers: Peers, open: { n: number }): Promise<SMTPServer> {
  const server: SMTPServer = new SMTPServer({
    secure: false,
    ...(opts.cert ? { key: opts.cert.key, cert: opts.cert.cert } : { disabledCommands: ['STARTTLS'] }),
    ...(opts.auth ? {} : { authOptional: true }),
    closeTimeout: 1000,
    logger: false,
    onConnect(session, cb) {
      peers.connections.set(address, (peers.connections.get(address) ?? 0) + 1);
      open.n++;
      (peers as { maxOpen: number }).maxOpen = Math.max(peers.maxOpen, open.n);
      if (opts.greeting) return cb(errorWithCode(opts.greeting.text, opts.greeting.code));
      if (opts.stall) return;
      cb();
    },
    onClose() {
      open.n--;
    },
    onAuth(auth, _session, cb) {
      if (opts.auth && auth.username === opts.auth.user && auth.password === opts.auth.pass) return cb(null, { user: auth.username });
      cb(errorWithCode('5.7.8 Authentication failed', 535));
    },
    onRcptTo(rcpt, _session, cb) {
      const e = opts.rcptError?.(rcpt.address);
      cb(e ? errorWithCode(e.text, e.code) : undefined);
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        peers.received.push({
          peer: address,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          body: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          envelope: structuredClone(session.envelope),
          sessionId: session.id,
        });
        cb(null, 'queued');
      });
    },
    ...opts.server,
  });
  resetCounters.set(server, () => peers.resets.set(address, (peers.resets.get(address) ?? 0) + 1));
  server.on('error', () => {});
  server.listen(port, address);
  await once(server.server, 'listening');
  return server;
}

/** Start one peer per address, all on one free port. */
export async function startPeers(addresses: readonly string[], opts: PeerOptions | ((address: string) => PeerOptions) = {}): Promise<Peers> {
  const optsFor = (a: string) => (typeof opts === 'function' ? opts(a) : opts);
  for (let attempt = 0; attempt < 10; attempt++) {
    const servers: SMTPServer[] = [];
    const open = { n: 0 };
    const peers: Peers = {
      port: 0, received: [], connections: new Map(), resets: new Map(), maxOpen: 0,
      close: async () => {
        await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
      },
    };
    try {
      const first = await listenOne(addresses[0], 0, optsFor(addresses[0]), peers, open);
      servers.push(first);
      const port = (first.server.address() as { port: number }).port;
      (peers as { port: number }).port = port;
      for (const a of addresses.slice(1)) servers.push(await listenOne(a, port, optsFor(a), peers, open));
      return peers;
    } catch {
      await peers.close();
    }
  }
  throw new Error('could not start the test peers on one port');
}

/** A self-signed certificate for these DNS names (also its own trust anchor in tests). */
export async function makeCert(names: readonly string[]): Promise<{ key: string; cert: string }> {
  const pems = await generate([{ name: 'commonName', value: names[0] }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}

/** An HTTPS server on 127.0.0.x answering the MTA-STS policy path. */
export async function startPolicyServer(address: string, cert: { key: string; cert: string }, policy: () => string | undefined): Promise<{ port: number; hits: number; close(): Promise<void> }> {
  const state = { hits: 0 };
  const server: HttpsServer = createHttpsServer({ key: cert.key, cert: cert.cert }, (req, res) => {
    state.hits++;
    const text = policy();
    if (req.url !== '/.well-known/mta-sts.txt' || text === undefined) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end(text);
  });
  server.listen(0, address);
  await once(server, 'listening');
  return {
    port: (server.address() as { port: number }).port,
    get hits() {
      return state.hits;
    },
    close: () => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

/** A real message file in a temp dir and a job around it. */
export async function makeJob(o: {
  to: Array<string | { address: string; notify?: string[]; orcpt?: string }>;
  from?: string;
  body?: string;
  mailFrom?: Partial<MailFrom>;
  headerPrefix?: string;
  removeHeaders?: HeaderRemoval[];
}): Promise<{ job: RemoteJob; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-outbound-'));
  const file = path.join(dir, 'message.eml');
  const bytes = Buffer.from(o.body ?? 'From: a@sender.test\r\nTo: b@example.test\r\nSubject: test\r\nMessage-ID: <t1@sender.test>\r\n\r\nHello.\r\n', 'utf8');
  await writeFile(file, bytes);
  const job: RemoteJob = {
    queueId: `Q${Math.random().toString(36).slice(2, 10)}`,
    mailFrom: { address: o.from ?? 'a@sender.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false, ...o.mailFrom },
    recipients: o.to.map((t) => (typeof t === 'string' ? { address: t } : { address: t.address, dsn: { ...(t.notify ? { notify: t.notify } : {}), ...(t.orcpt ? { orcpt: t.orcpt } : {}) } })),
    headerPrefix: Buffer.from(o.headerPrefix ?? ''),
    removeHeaders: o.removeHeaders ?? [],
    body: { kind: 'file', path: file },
    size: bytes.length,
    attempt: 1,
    receivedAt: Date.now(),
  };
  return { job, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
