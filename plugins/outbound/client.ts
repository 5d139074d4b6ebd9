import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import type { OutboundTlsPolicy } from '../../core/hooks.ts';
import { mxMatches } from './mta-sts.ts';
import { DotStuffer } from './smtp-data.ts';
import { parseEhlo, replyText, xtext, type SmtpReply } from './smtp-reply.ts';
import { SmtpWire, WireError } from './smtp-wire.ts';

/** Why a connection could not be used; `response` when the server said so (4xx greeting, 5xx EHLO). */
export class ConnectError extends Error {
  constructor(message: string, readonly kind: 'network' | 'tls' | 'policy' | 'auth' | 'protocol', readonly response?: string) {
    super(message);
  }
}

/** Where a transaction was refused: `response` is that reply; RCPT refusals are also per recipient. */
export type TransactionStage = 'MAIL FROM' | 'RCPT TO' | 'DATA' | 'end of data';

/** The server refused the transaction (a reply, not a broken connection). The connection stays usable. */
export class TransactionError extends Error {
  constructor(readonly stage: TransactionStage, readonly response: string, readonly rejected: SendResult['rejected']) {
    super(`${stage}: ${response}`);
  }
}

export interface ClientOptions {
  /** IP address to connect to (resolved through the injected resolver, never by the OS). */
  readonly address: string;
  readonly port: number;
  /** The host name the certificate must name (the MX host or the smarthost). */
  readonly hostname: string;
  readonly ehloName: string;
  readonly implicitTls: boolean;
  readonly policy: OutboundTlsPolicy;
  readonly ca?: ReadonlyArray<string | Buffer> | undefined;
  readonly connectTimeoutMs: number;
  readonly greetingTimeoutMs: number;
  readonly commandTimeoutMs: number;
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
  /** Aborts connecting (server stop). */
  readonly signal?: AbortSignal | undefined;
}

export interface TlsState {
  readonly secure: boolean;
  readonly authorized: boolean;
  readonly protocol?: string | undefined;
  readonly cipher?: string | undefined;
  readonly fingerprint?: string | undefined;
  /** MTA-STS testing: what would have failed under enforce (reported, not acted on). */
  readonly report?: string | undefined;
}

/** One RCPT TO, with its RFC 3461 parameters (sent only to a server offering DSN). */
export interface SendRecipient {
  readonly address: string;
  readonly dsn?: { readonly notify?: readonly string[] | undefined; readonly orcpt?: string | undefined } | undefined;
}

export interface SendEnvelope {
  readonly from: string;
  readonly to: readonly SendRecipient[];
  readonly size: number;
  /** RFC 3461 RET and ENVID, on MAIL FROM. */
  readonly dsn?: { readonly ret?: string | undefined; readonly envid?: string | undefined } | undefined;
  readonly eightBit: boolean;
  readonly smtpUtf8: boolean;
  readonly requireTls: boolean;
}

export interface SendResult {
  readonly accepted: readonly string[];
  readonly rejected: ReadonlyArray<{ recipient: string; response: string }>;
  /** The end-of-data reply. */
  readonly response: string;
}

const normalizeFp = (f: string) => f.replace(/:/g, '').toUpperCase();
const ok = (r: SmtpReply) => r.code >= 200 && r.code < 300;
/** Longest command line we write (RFC 5321 §4.5.3.1.4: 512 plus room for RFC 3461/6531 parameters). */
const MAX_COMMAND = 2000;
/** How long QUIT may take before the socket is destroyed. */
const QUIT_GRACE_MS = 1000;

/**
 * One SMTP client connection: connect, greeting, EHLO (HELO fallback), STARTTLS as the policy
 * says, the policy's checks on the result, AUTH; then transactions, pipelined (RFC 2920) when the
 * server offers PIPELINING. A transaction that ended with the end-of-data reply needs no RSET
 * (RFC 5321 §4.1.4); `reset()` sends one only after an aborted transaction.
 */
export class SmtpClient {
  readonly host: string;
  extensions = new Map<string, string>();
  tls: TlsState = { secure: false, authorized: false };
  messages = 0;
  readonly #wire: SmtpWire;
  /** A MAIL FROM was accepted and the transaction was not ended (end of data or RSET). */
  #open = false;
  #busy = false;

  private constructor(readonly options: ClientOptions, wire: SmtpWire) {
    this.host = options.hostname;
    this.#wire = wire;
  }

  static async open(options: ClientOptions): Promise<SmtpClient> {
    const signal = options.signal;
    if (signal?.aborted) throw new ConnectError('aborted', 'network');
    const c = new SmtpClient(options, new SmtpWire(await connectSocket(options)));
    const onAbort = () => c.#wire.fail(new WireError('aborted', 'network'));
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await c.#handshake();
    } catch (err) {
      c.close();
      throw asConnectError(err);
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return c;
  }

  get usable(): boolean {
    return !this.#wire.failed && !this.#busy;
  }

  /** Why the connection is no longer usable (closed, timed out, garbage, an unasked-for reply). */
  get failure(): string | undefined {
    return this.#wire.failed?.message;
  }

  async #command(line: string): Promise<SmtpReply> {
    this.#wire.write(`${line}\r\n`, 1);
    return this.#wire.reply(this.options.commandTimeoutMs);
  }

  async #handshake(): Promise<void> {
    const o = this.options;
    const greeting = await this.#wire.reply(o.greetingTimeoutMs);
    // RFC 5321 §3.1: anything but 220 (a 554 or 421 greeting) means no service here.
    if (greeting.code !== 220) throw new ConnectError(`greeting: ${replyText(greeting)}`, 'protocol', replyText(greeting));
    await this.#hello();
    if (o.implicitTls) this.#secured(this.#wire.socket as TLSSocket);
    else if (o.policy.mode !== 'none' && this.extensions.has('STARTTLS')) {
      const r = await this.#command('STARTTLS');
      if (r.code === 220) {
        this.#secured(await this.#wire.upgrade(tlsOptions(o), o.commandTimeoutMs));
        // RFC 3207 §4.2: forget what was learnt before TLS and ask again.
        await this.#hello();
      } else if (o.policy.mode === 'require') {
        throw new ConnectError(`STARTTLS refused: ${replyText(r)}`, 'tls', replyText(r));
      }
    }
    // The end of DATA is a small write right after the body: without this, Nagle holds it until
    // the body is acknowledged (a delayed ACK away) on every message of a reused connection.
    this.#wire.socket.setNoDelay(true);
    const problem = this.#policyProblem();
    if (problem) throw new ConnectError(problem, 'policy');
    if (o.auth) {
      if (!this.tls.secure) throw new ConnectError('AUTH refused over a connection without TLS', 'policy');
      await this.#authenticate(o.auth);
    }
  }

  /** EHLO, or HELO when the server does not know EHLO (RFC 5321 §4.1.4: a 5xx to EHLO). */
  async #hello(): Promise<void> {
    const name = this.options.ehloName;
    const r = await this.#command(`EHLO ${name}`);
    if (ok(r)) {
      this.extensions = parseEhlo(replyText(r));
      return;
    }
    if (r.code >= 500) {
      const h = await this.#command(`HELO ${name}`);
      if (ok(h)) {
        this.extensions = new Map();
        return;
      }
      throw new ConnectError(`HELO: ${replyText(h)}`, 'protocol', replyText(h));
    }
    throw new ConnectError(`EHLO: ${replyText(r)}`, 'protocol', replyText(r));
  }

  #secured(socket: TLSSocket): void {
    const cert = socket.getPeerCertificate();
    this.tls = {
      secure: true,
      authorized: socket.authorized,
      protocol: socket.getProtocol() ?? undefined,
      cipher: socket.getCipher()?.name,
      fingerprint: cert?.fingerprint256 ? normalizeFp(cert.fingerprint256) : undefined,
    };
  }

  /** AUTH PLAIN (RFC 4616) or LOGIN, whichever is offered, PLAIN first; only ever over TLS. */
  async #authenticate(auth: { readonly user: string; readonly pass: string }): Promise<void> {
    const mechs = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    let r: SmtpReply;
    if (mechs.includes('PLAIN')) {
      const token = b64(`\0${auth.user}\0${auth.pass}`);
      r = await this.#command(`AUTH PLAIN ${token}`);
      // RFC 4954 §4: a server that wants the response after an empty challenge.
      if (r.code === 334) r = await this.#command(token);
    } else if (mechs.includes('LOGIN')) {
      r = await this.#command('AUTH LOGIN');
      if (r.code === 334) r = await this.#command(b64(auth.user));
      if (r.code === 334) r = await this.#command(b64(auth.pass));
    } else {
      throw new ConnectError('AUTH failed: the server offers neither PLAIN nor LOGIN', 'auth');
    }
    if (r.code !== 235) {
      // An unfinished exchange ("334" again) is cancelled (RFC 4954 §4) before giving up.
      if (r.code === 334) await this.#command('*').catch(() => undefined);
      throw new ConnectError(`AUTH failed: ${replyText(r)}`, 'auth', replyText(r));
    }
  }

  /** The policy's checks on the connection as established; a message, or undefined when it holds. */
  #policyProblem(): string | undefined {
    const p = this.options.policy;
    const problems: string[] = [];
    if (p.mode === 'require' && !this.tls.secure) problems.push('TLS required but not offered');
    if (p.verify && this.tls.secure && !this.tls.authorized) problems.push('certificate not verified');
    if (p.fingerprints && (!this.tls.fingerprint || !p.fingerprints.map(normalizeFp).includes(this.tls.fingerprint))) {
      problems.push('certificate fingerprint not pinned');
    }
    if (p.mxPatterns && !mxMatches(this.host, p.mxPatterns)) problems.push(`MX ${this.host} not in the policy`);
    if (!p.testing) return problems.length ? problems.join('; ') : undefined;
    // RFC 8461 §5: testing mode reports what enforce would have refused, and delivers anyway.
    const would = [...problems];
    if (!this.tls.secure) would.push('no TLS');
    else if (!this.tls.authorized) would.push('certificate not valid for the MX');
    if (would.length) this.tls = { ...this.tls, report: would.join('; ') };
    return undefined;
  }

  #mailCommand(env: SendEnvelope): string {
    const ext = this.extensions;
    const params: string[] = [];
    if (ext.has('SIZE')) params.push(`SIZE=${env.size}`);
    if (env.eightBit && ext.has('8BITMIME')) params.push('BODY=8BITMIME');
    // RFC 6531 §3.4: a message with UTF-8 headers needs SMTPUTF8 even with ASCII addresses.
    const utf8 = env.smtpUtf8 || [env.from, ...env.to.map((r) => r.address)].some((a) => /[^\x00-\x7f]/.test(a));
    if (utf8 && ext.has('SMTPUTF8')) params.push('SMTPUTF8');
    if (env.requireTls && ext.has('REQUIRETLS')) params.push('REQUIRETLS');
    if (ext.has('DSN') && env.dsn?.ret) params.push(`RET=${xtext(env.dsn.ret)}`);
    if (ext.has('DSN') && env.dsn?.envid) params.push(`ENVID=${xtext(env.dsn.envid)}`);
    return [`MAIL FROM:<${env.from}>`, ...params].join(' ');
  }

  #rcptCommand(r: SendRecipient): string {
    const params: string[] = [];
    if (this.extensions.has('DSN') && r.dsn?.notify?.length) params.push(`NOTIFY=${xtext(r.dsn.notify.join(','))}`);
    if (this.extensions.has('DSN') && r.dsn?.orcpt) params.push(`ORCPT=${xtext(r.dsn.orcpt)}`);
    return [`RCPT TO:<${r.address}>`, ...params].join(' ');
  }

  /**
   * One transaction: per-recipient refusals in the result; a refusal of the whole transaction
   * as a TransactionError; a broken connection (no reply) as another error, after which the
   * connection is closed. With PIPELINING, MAIL, every RCPT and DATA go in one write and the
   * replies are read in order (RFC 2920 §3.1); otherwise one command at a time.
   */
  async send(env: SendEnvelope, message: Readable | Buffer): Promise<SendResult> {
    if (this.#busy) throw new Error('a transaction is already running on this connection');
    this.#busy = true;
    this.messages++;
    try {
      return await this.#transaction(env, message);
    } catch (err) {
      if (!(err instanceof TransactionError)) this.#wire.fail(err instanceof WireError ? err : new WireError(String((err as Error).message ?? err), 'network'));
      throw err;
    } finally {
      this.#busy = false;
    }
  }

  async #transaction(env: SendEnvelope, message: Readable | Buffer): Promise<SendResult> {
    await this.reset();
    const bad = (s: string) => /[\r\n<>]/.test(s);
    // Addresses come from the spool, checked at RCPT time; a line break here would inject a command.
    if (bad(env.from)) throw new TransactionError('MAIL FROM', '553 5.1.7 sender address not usable in a command', []);
    const badRcpts = env.to.filter((r) => bad(r.address)).map((r) => ({ recipient: r.address, response: '553 5.1.3 recipient address not usable in a command' }));
    const to = env.to.filter((r) => !bad(r.address));
    const mail = this.#mailCommand(env);
    const rcpts = to.map((r) => this.#rcptCommand(r));
    if ([mail, ...rcpts].some((l) => l.length > MAX_COMMAND)) throw new TransactionError('MAIL FROM', '501 5.5.4 command line too long', []);
    if (!to.length) throw new TransactionError('RCPT TO', badRcpts[0]?.response ?? '554 5.5.1 no recipients', badRcpts);

    const w = this.#wire;
    const t = this.options.commandTimeoutMs;
    let mailR: SmtpReply;
    const rcptR: SmtpReply[] = [];
    let dataR: SmtpReply | undefined;
    if (this.extensions.has('PIPELINING')) {
      w.write(`${mail}\r\n${rcpts.join('\r\n')}\r\nDATA\r\n`, rcpts.length + 2);
      const rs = await w.replies(rcpts.length + 2, t);
      mailR = rs[0];
      rcptR.push(...rs.slice(1, -1));
      dataR = rs[rs.length - 1];
    } else {
      mailR = await this.#command(mail);
      if (ok(mailR)) {
        for (const line of rcpts) rcptR.push(await this.#command(line));
        if (rcptR.some(ok)) dataR = await this.#command('DATA');
      }
    }
    // A 354 nobody should have given (no sender or no recipient accepted): RFC 2920 §3.1 says
    // end it with a lone "." rather than send the message.
    const endEmpty = async () => {
      w.write('.\r\n', 1);
      await w.reply(t);
    };
    if (!ok(mailR)) {
      if (dataR?.code === 354) await endEmpty();
      throw new TransactionError('MAIL FROM', replyText(mailR), badRcpts);
    }
    this.#open = true;
    const accepted: string[] = [];
    const rejected = [...badRcpts];
    to.forEach((r, i) => {
      if (ok(rcptR[i])) accepted.push(r.address);
      else rejected.push({ recipient: r.address, response: replyText(rcptR[i]) });
    });
    if (!accepted.length) {
      if (dataR?.code === 354) {
        await endEmpty();
        this.#open = false;
      }
      throw new TransactionError('RCPT TO', rejected[0].response, rejected);
    }
    if (dataR?.code !== 354) throw new TransactionError('DATA', dataR ? replyText(dataR) : 'no DATA reply', rejected);
    await this.#body(message);
    const end = await w.reply(t);
    // RFC 5321 §4.1.4: the end-of-data reply ends the transaction, whatever it says.
    this.#open = false;
    if (!ok(end)) throw new TransactionError('end of data', replyText(end), rejected);
    return { accepted, rejected, response: replyText(end) };
  }

  /** The message, dot-stuffed with CRLF line ends, then "." (one corked write when it is in memory). */
  async #body(message: Readable | Buffer): Promise<void> {
    const w = this.#wire;
    const stuffer = new DotStuffer();
    if (Buffer.isBuffer(message)) {
      // Not joined into one buffer: the message goes as it is when nothing needs stuffing.
      w.socket.cork();
      try {
        w.write(stuffer.push(message), 0);
        w.write(stuffer.end(), 1);
      } finally {
        w.socket.uncork();
      }
      return;
    }
    try {
      for await (const chunk of message) {
        const data = stuffer.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
        if (data.length && !w.write(data, 0)) await w.drain(this.options.commandTimeoutMs);
      }
    } catch (err) {
      // A spool read error must not end the message with "." (a truncated message would be taken).
      if (err instanceof WireError) throw err;
      const e = new WireError(`message could not be read: ${(err as Error).message}`, 'network');
      w.fail(e);
      throw e;
    }
    w.write(stuffer.end(), 1);
  }

  /** RSET after an aborted transaction (RFC 5321 §4.1.1.5); nothing when none is open. */
  async reset(): Promise<void> {
    if (!this.#open) return;
    const r = await this.#command('RSET');
    if (!ok(r)) {
      this.close();
      throw new ConnectError(`RSET: ${replyText(r)}`, 'protocol', replyText(r));
    }
    this.#open = false;
  }

  /** QUIT and close; a connection in the middle of a command is closed at once. */
  close(): void {
    this.#wire.quit(QUIT_GRACE_MS);
  }
}

function tlsOptions(o: ClientOptions): ConnectionOptions {
  return {
    ...(isIP(o.hostname) ? {} : { servername: o.hostname }),
    // Verification is the policy's: a self-signed MX is fine for opportunistic TLS (RFC 7435).
    rejectUnauthorized: o.policy.verify,
    // The name checked is the MX (or smarthost) name, not the address connected to.
    checkServerIdentity: (_host, cert) => checkServerIdentity(o.hostname, cert),
    minVersion: 'TLSv1.2',
    ...(o.ca ? { ca: o.ca as Array<string | Buffer> } : {}),
  };
}

/** TCP (and for implicit TLS the handshake) within connectTimeoutMs, abortable. */
function connectSocket(o: ClientOptions): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s: Socket = o.implicitTls ? tlsConnect({ host: o.address, port: o.port, ...tlsOptions(o) }) : netConnect({ host: o.address, port: o.port });
    let tcp = false;
    const kind = () => (tcp && o.implicitTls ? 'tls' : 'network');
    const done = (err?: ConnectError) => {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      s.off('connect', onConnect);
      s.off('secureConnect', onSecure);
      s.off('error', onError);
      if (!err) return resolve(s);
      s.on('error', () => {});
      s.destroy();
      reject(err);
    };
    const onConnect = () => {
      tcp = true;
      if (!o.implicitTls) done();
    };
    const onSecure = () => done();
    const onError = (e: Error) => done(new ConnectError(`${kind() === 'tls' ? 'TLS handshake failed' : 'connect failed'}: ${e.message}`, kind()));
    const onAbort = () => done(new ConnectError('aborted', 'network'));
    const timer = setTimeout(() => done(new ConnectError(`${kind() === 'tls' ? 'TLS handshake' : 'connect'} timed out after ${o.connectTimeoutMs} ms`, kind())), o.connectTimeoutMs);
    s.once('connect', onConnect);
    if (o.implicitTls) s.once('secureConnect', onSecure);
    s.once('error', onError);
    o.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function asConnectError(err: unknown): ConnectError {
  if (err instanceof ConnectError) return err;
  if (err instanceof WireError) return new ConnectError(err.message, err.kind);
  return new ConnectError((err as Error).message ?? String(err), 'network');
}
