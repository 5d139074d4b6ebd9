import type { Readable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import type { OutboundTlsPolicy } from '../../core/hooks.ts';
import { mxMatches } from './mta-sts.ts';

/** Why a connection could not be used; `reply` when the server said so (4xx greeting, 5xx EHLO). */
export class ConnectError extends Error {
  constructor(message: string, readonly kind: 'network' | 'tls' | 'policy' | 'auth' | 'protocol', readonly response?: string) {
    super(message);
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

export interface SendEnvelope {
  readonly from: string;
  readonly to: readonly string[];
  readonly size: number;
  readonly dsn?: { ret?: string | undefined; envid?: string | undefined; notify?: string | undefined; orcpt?: string | undefined } | undefined;
  readonly eightBit: boolean;
  readonly smtpUtf8: boolean;
  readonly requireTls: boolean;
}

export interface SendResult {
  readonly accepted: readonly string[];
  readonly rejected: ReadonlyArray<{ recipient: string; response: string }>;
  readonly response: string;
}

/** An SMTP error from nodemailer: the server's reply when there was one. */
export interface ClientError extends Error {
  code?: string;
  response?: string;
  responseCode?: number;
  rejectedErrors?: Array<{ recipient?: string; response?: string }>;
}

const normalizeFp = (f: string) => f.replace(/:/g, '').toUpperCase();

/** EHLO keywords (upper case) and their parameters, from the EHLO reply text. */
export function parseEhlo(reply: string): Map<string, string> {
  const ext = new Map<string, string>();
  const lines = reply.split(/\r?\n/).map((l) => l.replace(/^\d{3}[ -]?/, '').trim());
  for (const line of lines.slice(1)) {
    const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line);
    if (m) ext.set(m[1].toUpperCase(), m[2] ?? '');
  }
  return ext;
}

/**
 * One SMTP client connection (nodemailer's SMTPConnection): connect, EHLO, STARTTLS as the policy
 * says, the policy's checks on the result, AUTH; then messages, with RSET between them.
 */
export class SmtpClient {
  readonly #conn: SMTPConnection;
  readonly host: string;
  extensions = new Map<string, string>();
  tls: TlsState = { secure: false, authorized: false };
  messages = 0;
  #closed = false;

  private constructor(readonly options: ClientOptions) {
    const p = options.policy;
    this.host = options.hostname;
    this.#conn = new SMTPConnection({
      host: options.address,
      port: options.port,
      secure: options.implicitTls,
      servername: options.hostname,
      name: options.ehloName,
      ignoreTLS: p.mode === 'none' && !options.implicitTls,
      requireTLS: p.mode === 'require' && !options.implicitTls,
      connectionTimeout: options.connectTimeoutMs,
      greetingTimeout: options.greetingTimeoutMs,
      socketTimeout: options.commandTimeoutMs,
      socketCloseTimeout: 1000,
      tls: {
        // Verification is the policy's: a self-signed MX is fine for opportunistic TLS (RFC 7435).
        rejectUnauthorized: p.verify,
        servername: options.hostname,
        minVersion: 'TLSv1.2',
        ...(options.ca ? { ca: options.ca as Array<string | Buffer> } : {}),
      },
      logger: false,
    });
    this.#conn.on('error', () => {
      // Errors reach the pending callback; this listener keeps a late socket error from crashing.
    });
    this.#conn.on('end', () => {
      this.#closed = true;
    });
  }

  static async open(options: ClientOptions): Promise<SmtpClient> {
    const c = new SmtpClient(options);
    const signal = options.signal;
    if (signal?.aborted) throw new ConnectError('aborted', 'network');
    const onAbort = () => c.#conn.close();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await c.#connect();
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
    return c;
  }

  get usable(): boolean {
    return !this.#closed;
  }

  async #connect(): Promise<void> {
    const conn = this.#conn;
    await this.#guarded<void>((resolve, reject) => {
      conn.connect((err) => (err ? reject(err) : resolve()));
    }).catch((err: unknown) => {
      throw err instanceof ConnectError ? err : toConnectError(err as ClientError);
    });
    this.extensions = parseEhlo(typeof conn.lastServerResponse === 'string' ? conn.lastServerResponse : '');
    const socket = conn._socket as TLSSocket | false | null;
    // The end of DATA is a small write right after the body: without this, Nagle holds it until
    // the body is acknowledged (a delayed ACK away) on every message of a reused connection.
    if (socket) socket.setNoDelay(true);
    if (conn.secure && socket && typeof socket.getPeerCertificate === 'function') {
      const cert = socket.getPeerCertificate();
      this.tls = {
        secure: true,
        authorized: socket.authorized,
        protocol: socket.getProtocol() ?? undefined,
        cipher: socket.getCipher()?.name,
        fingerprint: cert?.fingerprint256 ? normalizeFp(cert.fingerprint256) : undefined,
      };
    }
    const problem = this.#policyProblem();
    if (problem) {
      this.close();
      throw new ConnectError(problem, 'policy');
    }
    if (this.options.auth) {
      if (!this.tls.secure) {
        this.close();
        throw new ConnectError('AUTH refused over a connection without TLS', 'policy');
      }
      await this.#guarded<void>((resolve, reject) => {
        conn.login({ user: this.options.auth!.user, pass: this.options.auth!.pass }, (err) => {
          if (err) reject(new ConnectError(`AUTH failed: ${(err as ClientError).response ?? err.message}`, 'auth', (err as ClientError).response));
          else resolve();
        });
      });
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

  /** One transaction; the message as a stream, or whole in a buffer (nodemailer takes either). */
  send(env: SendEnvelope, message: Readable | Buffer): Promise<SendResult> {
    const conn = this.#conn;
    this.messages++;
    // nodemailer adds SMTPUTF8 only for non-ASCII addresses; a message flagged SMTPUTF8 (UTF-8
    // headers, RFC 6531 §3.4) needs it even with ASCII addresses, so it is added to MAIL FROM here.
    const restore = env.smtpUtf8 && this.extensions.has('SMTPUTF8') ? this.#addMailParam('SMTPUTF8') : undefined;
    return this.#guarded<SendResult>((resolve, reject) => {
      conn.send({
        from: env.from,
        to: [...env.to],
        size: env.size,
        use8BitMime: env.eightBit,
        requireTLSExtensionEnabled: env.requireTls && this.extensions.has('REQUIRETLS'),
        ...(env.dsn ? { dsn: env.dsn } : {}),
      }, message, (err, info) => {
        restore?.();
        if (err) return reject(err);
        resolve({
          accepted: info.accepted,
          rejected: (info.rejectedErrors ?? []).map((e) => ({ recipient: (e as ClientError & { recipient?: string }).recipient ?? '', response: (e as ClientError).response ?? '' })),
          response: info.response,
        });
      });
    });
  }

  /**
   * A promise around one nodemailer call that also settles when the connection errors or ends:
   * nodemailer reports some failures (TLS handshake, a dropped socket) only as events.
   */
  #guarded<T>(run: (resolve: (v: T) => void, reject: (e: unknown) => void) => void): Promise<T> {
    const conn = this.#conn;
    const asError = (e: unknown) => (e instanceof Error ? e : new Error(String(e)));
    return new Promise<T>((resolve, reject) => {
      const onError = (err: unknown) => finish(() => reject(asError(err)));
      const onEnd = () => finish(() => reject(Object.assign(new Error('connection closed by the server'), { code: 'ECONNECTION' })));
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        conn.off('error', onError);
        conn.off('end', onEnd);
        f();
      };
      conn.on('error', onError);
      conn.on('end', onEnd);
      try {
        run((v) => finish(() => resolve(v)), (e) => finish(() => reject(asError(e))));
      } catch (err) {
        finish(() => reject(asError(err)));
      }
    });
  }

  #addMailParam(param: string): () => void {
    const target = this.#conn as unknown as { _sendCommand(s: string): void };
    const own = Object.prototype.hasOwnProperty.call(target, '_sendCommand');
    const orig = target._sendCommand.bind(target);
    target._sendCommand = (s: string) => orig(/^MAIL FROM:/i.test(s) && !new RegExp(` ${param}\\b`).test(s) ? `${s} ${param}` : s);
    return () => {
      if (!own) delete (target as Partial<typeof target>)._sendCommand;
    };
  }

  /** RSET, so the next message starts a fresh transaction (RFC 5321 §4.1.1.5). */
  reset(): Promise<void> {
    return this.#guarded<void>((resolve, reject) => {
      this.#conn.reset((err) => (err ? reject(err) : resolve()));
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.quit();
    } catch {
      this.#conn.close();
    }
    const t = setTimeout(() => this.#conn.close(), 1000);
    t.unref();
  }
}

function toConnectError(err: ClientError): ConnectError {
  const kind = err.code === 'ETLS' ? 'tls' : err.code === 'EPROTOCOL' || err.responseCode ? 'protocol' : 'network';
  return new ConnectError(err.response ? `${err.message}: ${err.response}` : err.message, kind, err.response);
}
