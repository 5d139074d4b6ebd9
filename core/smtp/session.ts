import type { Readable } from 'node:stream';
import { lazyLogger, type Logger } from '../log.ts';
import { SlotStore } from '../slots.ts';
import type { TraceEntry, CallTrace } from '../hook-runner.ts';
import type {
  AcceptedRecipient, Evidence, HeaderEdit, ListenerInfo, MailFrom, SmtpSession, SmtpTransaction, SpooledMessage,
} from './types.ts';
import { parseHeaderSection, readHeaderSection } from './headers.ts';
import { bodyStream, type MessageBody } from '../queue/body.ts';

export interface SessionInit {
  id: string;
  listener: ListenerInfo;
  remoteAddress: string;
  remotePort: number;
  localAddress: string;
  localPort: number;
  secure: boolean;
  /** The session's logger; with `logBindings`, the parent of a child made with them on first use. */
  log: Logger;
  /** Fields every line of this session carries (session id, client address). */
  logBindings?: Record<string, unknown>;
  openedAt: number;
}

/**
 * A pino child costs more than the one line most sessions and transactions write (child() copies
 * and serialises its bindings and recomputes the level methods). So each is made only when a line
 * at an enabled level is written through it (lazyLogger); the transaction line written before that
 * carries the same fields itself (Transaction.info).
 */
class LazyLog {
  #child?: Logger;
  #proxy?: Logger;
  /** `levels`: a logger made already, asked isLevelEnabled (children share the root's level). */
  constructor(private readonly parent: () => Logger, readonly bindings: Record<string, unknown> | undefined, readonly levels: Logger) {}

  get logger(): Logger {
    if (!this.bindings) return this.parent();
    return (this.#proxy ??= lazyLogger(() => (this.#child ??= this.parent().child(this.bindings!)), this.levels));
  }

  /** The child, if it was made. */
  get made(): Logger | undefined {
    return this.#child;
  }

  /** Where a line goes without making the child, and the fields it must then carry itself. */
  target(): { log: Logger; fields: Record<string, unknown> | undefined } {
    return this.#child ? { log: this.#child, fields: undefined } : { log: this.parent(), fields: this.bindings };
  }
}

/** The core's SmtpSession: plugins see it through the read-only interface. */
export class Session implements SmtpSession {
  readonly id: string;
  readonly listener: ListenerInfo;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  readonly openedAt: number;
  readonly slots = new SlotStore();
  readonly evidence: Evidence[] = [];
  readonly #log: LazyLog;
  secure: boolean;
  tls?: { protocol?: string; cipher?: string };
  clientHostname?: string;
  helo?: { verb: 'HELO' | 'EHLO'; host: string };
  user?: string;
  relay: { allowed: boolean; reason?: string } = { allowed: false };
  transactionCount = 0;
  /** Trace of session-level hooks (connect, helo, auth). */
  readonly trace: TraceEntry[] = [];

  constructor(init: SessionInit) {
    this.id = init.id;
    this.listener = init.listener;
    this.remoteAddress = init.remoteAddress;
    this.remotePort = init.remotePort;
    this.localAddress = init.localAddress;
    this.localPort = init.localPort;
    this.secure = init.secure;
    this.openedAt = init.openedAt;
    const parent = init.log;
    this.#log = new LazyLog(() => parent, init.logBindings, parent);
  }

  get log(): Logger {
    return this.#log.logger;
  }

  /** The logger that answers isLevelEnabled without making a child. */
  get logLevels(): Logger {
    return this.#log.levels;
  }

  /** Where a line of this session goes and the fields it must carry (see LazyLog). */
  logTarget(): { log: Logger; fields: Record<string, unknown> | undefined } {
    return this.#log.target();
  }

  allowRelay(reason: string): void {
    this.relay = { allowed: true, reason };
  }

  callTrace(): CallTrace {
    return lazyTrace(this.#log, this.trace);
  }
}

/** A CallTrace whose logger is made only if a tap logs. */
function lazyTrace(log: LazyLog, trace: TraceEntry[]): CallTrace {
  return { get log() { return log.logger; }, record: (e) => trace.push(e) };
}

export class Spooled implements SpooledMessage {
  #headers?: Promise<Array<{ name: string; value: string }>>;
  constructor(readonly body: MessageBody, readonly size: number) {}
  headers() {
    const b = this.body;
    this.#headers ??= b.kind === 'file' ? readHeaderSection(b.path) : Promise.resolve(parseHeaderSection(b.bytes.subarray(0, 256 * 1024).toString('utf8')));
    return this.#headers;
  }
  stream(): Readable {
    return bodyStream(this.body);
  }
}

export class Transaction implements SmtpTransaction {
  readonly slots = new SlotStore();
  readonly evidence: Evidence[] = [];
  readonly headerEdits: HeaderEdit[] = [];
  readonly rcptTo: AcceptedRecipient[] = [];
  readonly trace: TraceEntry[] = [];
  readonly #log: LazyLog;
  message?: Spooled;
  /** Final message-stage decision, for the log line. */
  outcome?: string;

  constructor(readonly id: string, readonly session: Session, readonly mailFrom: MailFrom) {
    this.#log = new LazyLog(() => session.log, { queueId: id }, session.logLevels);
    if (session.evidence.length) this.evidence.push(...session.evidence);
  }

  addHeader(name: string, value: string): void {
    if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) throw new Error(`bad header name ${JSON.stringify(name)}`);
    // A value may be folded (CRLF followed by white space) but must not start a new header line.
    if (/[\r\n](?![ \t])/.test(value.replace(/\r\n[ \t]/g, ' '))) throw new Error(`header ${name}: value must not contain bare line breaks`);
    this.headerEdits.push({ op: 'add', name, value });
  }

  removeHeader(name: string, match?: { firstToken: string }): void {
    this.headerEdits.push(match ? { op: 'remove', name, firstToken: match.firstToken } : { op: 'remove', name });
  }

  get log(): Logger {
    return this.#log.logger;
  }

  /** One info line with the session's and the transaction's fields, without making children for it. */
  info(obj: Record<string, unknown>, msg: string): void {
    const own = this.#log.made;
    if (own) return own.info(obj, msg);
    const session = this.session.logTarget();
    session.log.info({ ...session.fields, ...this.#log.bindings, ...obj }, msg);
  }

  callTrace(): CallTrace {
    return lazyTrace(this.#log, this.trace);
  }
}
