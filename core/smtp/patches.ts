/**
 * Small, typed patches to smtp-server 3.21 (pinned in package.json), installed once per process.
 * Behaviour stays per server: each patch looks up the adapter attached to the connection's
 * SMTPServer under ADAPTER and does nothing special for servers without one.
 *
 * Why each exists (shared/notes/library-probes.md §1):
 * - send: the library prepends a default enhanced code to every reply; ours already carry one,
 *   which gave "550 5.1.1 5.7.1 …". Exactly one code per reply.
 * - init: a fixed 100 ms pre-greeting pause; ours is a per-listener setting (0 on submission).
 * - HELO/EHLO: no hook in the library; ours runs smtp.helo and hides AUTH before TLS.
 * - DATA: no hook before the 354; ours runs smtp.data.
 * - _onCommand: records progress for the command timeout (a client trickling one byte at a
 *   time resets the idle timer forever).
 * - WIZ/SHELL/KILL: joke handlers whose replies fingerprint the library.
 */
/* eslint-disable @typescript-eslint/unbound-method -- patching prototypes: originals are kept unbound and called with .call(this) */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { Reply } from '../verdict.ts';
import { replyText } from './codes.ts';

export const ADAPTER = Symbol.for('pochta.smtp.adapter');
const INSTALLED = Symbol.for('pochta.smtp.patched');
export const PROGRESS = Symbol.for('pochta.smtp.progress');

/** What the patches ask of the adapter that owns an SMTPServer. */
export interface PatchAdapter {
  greetingDelayMs(conn: SMTPConnection): number;
  helo(conn: SMTPConnection, verb: 'HELO' | 'EHLO', host: string): Promise<Reply | undefined>;
  /** Remove EHLO keywords that must not be offered right now (AUTH before TLS on submission). */
  filterEhlo(conn: SMTPConnection, features: string[]): string[];
  data(conn: SMTPConnection): Promise<Reply | undefined>;
}

export interface Progress {
  /** When the last complete command line (or DATA body) arrived. */
  at: number;
  /** Bytes arrived since then. */
  pending: boolean;
}

type Conn = SMTPConnection & { [PROGRESS]?: Progress; _server: { [ADAPTER]?: PatchAdapter; options: { maxClients?: number }; connections: Set<unknown> } };

const adapterOf = (c: SMTPConnection) => (c as Conn)._server[ADAPTER];
const ENHANCED = /^[245]\.\d{1,3}\.\d{1,3} /;

export function installPatches(): void {
  const proto = SMTPConnection.prototype as unknown as Record<string | symbol, unknown> & SMTPConnection;
  if (proto[INSTALLED]) return;
  proto[INSTALLED] = true;

  const origSend = proto.send;
  proto.send = function (this: SMTPConnection, code, data, context) {
    if (typeof data === 'string' && ENHANCED.test(data)) context = false;
    else if (Array.isArray(data) && typeof data[0] === 'string' && ENHANCED.test(data[0])) context = false;
    return origSend.call(this, code, data, context);
  };

  const origInit = proto.init;
  proto.init = function (this: Conn) {
    const adapter = adapterOf(this);
    if (!adapter) return origInit.call(this);
    const self = this as unknown as { _setListeners(cb: () => void): void; connectionReady(): void; _socket: NodeJS.EventEmitter };
    this[PROGRESS] = { at: Date.now(), pending: false };
    // Shared with the session object so the DATA handler can mark the end of a body as progress.
    (this.session as unknown as Record<symbol, unknown>)[PROGRESS] = this[PROGRESS];
    self._socket.on('data', () => {
      const p = this[PROGRESS];
      if (p) p.pending = true;
    });
    self._setListeners(() => {
      const delay = adapter.greetingDelayMs(this);
      if (delay > 0) setTimeout(() => self.connectionReady(), delay).unref();
      else self.connectionReady();
    });
  };

  const origOnCommand = (proto as unknown as { _onCommand: (this: Conn, cmd: Buffer, done: () => void) => void })._onCommand;
  (proto as unknown as { _onCommand: typeof origOnCommand })._onCommand = function (this: Conn, cmd: Buffer, done: () => void) {
    const p = this[PROGRESS];
    if (p) {
      p.at = Date.now();
      p.pending = false;
    }
    return origOnCommand.call(this, cmd, done);
  };

  for (const verb of ['EHLO', 'HELO'] as const) {
    const key = `handler_${verb}` as const;
    const orig = proto[key];
    proto[key] = function (this: SMTPConnection, command: Buffer, callback: () => void) {
      const adapter = adapterOf(this);
      if (!adapter) return orig.call(this, command, callback);
      const parts = command.toString().trim().split(/\s+/);
      // Syntax errors are the library's to answer (501); the hook sees well-formed commands.
      if (parts.length !== 2) return orig.call(this, command, callback);
      adapter.helo(this, verb, parts[1]).then((reply) => {
        if (reply) {
          this.send(reply.code, replyText(reply));
          if (reply.code === 421) this.close();
          return callback();
        }
        const origConnSend = this.send;
        this.send = (code, data, ctx) => origConnSend.call(this, code, code === 250 && Array.isArray(data) ? [data[0], ...adapter.filterEhlo(this, data.slice(1))] : data, ctx);
        try {
          orig.call(this, command, callback); // synchronous: sends before returning
        } finally {
          this.send = origConnSend;
        }
      }, () => {
        this.send(451, '4.3.0 Temporary local problem, please try again later');
        callback();
      });
    };
  }

  const origData = proto.handler_DATA;
  proto.handler_DATA = function (this: SMTPConnection, command: Buffer, callback: () => void) {
    const adapter = adapterOf(this);
    if (!adapter || !this.session.envelope.rcptTo.length) return origData.call(this, command, callback);
    adapter.data(this).then((reply) => {
      if (reply) {
        this.send(reply.code, replyText(reply));
        return callback();
      }
      origData.call(this, command, callback);
    }, () => {
      this.send(451, '4.3.0 Temporary local problem, please try again later');
      callback();
    });
  };

  for (const joke of ['handler_WIZ', 'handler_SHELL', 'handler_KILL']) {
    Object.defineProperty(proto, joke, { value: undefined, writable: true, configurable: true });
  }
}
