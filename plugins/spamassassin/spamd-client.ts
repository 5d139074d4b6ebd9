/**
 * A small spamd client (the SPAMC/1.5 protocol, spamd's PROTOCOL file): one request per
 * connection, `SYMBOLS SPAMC/1.5`, a Content-length header, the message streamed from the spool
 * with backpressure; the reply `SPAMD/1.1 0 EX_OK`, `Spam: True ; 15.2 / 5.0`, then the matched
 * rule names. Every step is bounded by a deadline and the reply by a size cap. No hooks, no config.
 */
import type { Readable } from 'node:stream';
import { armDeadlines, connectTarget, drainOrClose, whenConnected, type ScanTarget } from '../../core/net/scan-socket.ts';

export type SpamdTarget = ScanTarget;

export interface SpamdResult {
  readonly spam: boolean;
  readonly score: number;
  readonly required: number;
  /** Rule names (SYMBOLS); empty for CHECK. */
  readonly symbols: readonly string[];
}

/** spamd could not be reached, did not answer in time, or answered something unusable. */
export class SpamdUnavailable extends Error {}

export interface SpamdOptions {
  readonly connectTimeoutMs: number;
  /** The whole scan: connect, send, verdict. */
  readonly timeoutMs: number;
  /** Sent as the User header (spamd's per-user preferences). */
  readonly user?: string | undefined;
  readonly signal?: AbortSignal;
  readonly maxReplyBytes?: number;
}

/**
 * Parse spamd's whole answer. `SPAMD/<ver> <code> <text>`: code 0 is EX_OK; anything else
 * (EX_PROTOCOL 76, EX_TEMPFAIL 75, ...) is not a verdict.
 */
export function parseReply(text: string): SpamdResult {
  const headEnd = text.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? text : text.slice(0, headEnd);
  const body = headEnd < 0 ? '' : text.slice(headEnd + 4);
  const [status = '', ...fields] = head.split('\r\n');
  const st = /^SPAMD\/\d+\.\d+ (\d+) (.*)$/.exec(status);
  if (!st) throw new SpamdUnavailable(`not a spamd reply: ${status.replace(/[^\x20-\x7e]/g, '?').slice(0, 80)}`);
  if (st[1] !== '0') throw new SpamdUnavailable(`spamd error ${st[1]}: ${(st[2] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 120)}`);
  let verdict: RegExpExecArray | null = null;
  for (const f of fields) {
    const m = /^Spam:\s*(True|False|Yes|No)\s*;\s*(-?\d+(?:\.\d+)?)\s*\/\s*(-?\d+(?:\.\d+)?)\s*$/i.exec(f);
    if (m) verdict = m;
  }
  if (!verdict) throw new SpamdUnavailable('spamd reply has no Spam header');
  const symbols = body.trim() ? body.trim().split(',').map((s) => s.trim()).filter((s) => /^[\w.-]{1,64}$/.test(s)) : [];
  return {
    spam: /^(true|yes)$/i.test(verdict[1] ?? ''),
    score: Number(verdict[2]),
    required: Number(verdict[3]),
    symbols,
  };
}

/** Scan one message of `size` bytes. Resolves to the verdict; rejects with SpamdUnavailable otherwise. */
export async function symbols(target: SpamdTarget, input: Readable, size: number, opts: SpamdOptions): Promise<SpamdResult> {
  const maxReply = opts.maxReplyBytes ?? 256 * 1024;
  const sock = connectTarget(target);
  let reply = '';
  let failure: Error | undefined;
  const closed = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      if (reply.length > maxReply) stop(`reply larger than ${maxReply} bytes`);
    });
    sock.once('close', () => resolve());
    sock.once('error', (err) => {
      failure ??= err;
    });
  });
  function stop(why: string) {
    failure ??= new SpamdUnavailable(why);
    sock.destroy();
    input.destroy();
  }
  const deadlines = armDeadlines(opts, stop);
  try {
    await whenConnected(sock, () => failure ?? new SpamdUnavailable('closed before connect'));
    deadlines.connected();
    const user = opts.user ? `User: ${opts.user.replace(/[^\x21-\x7e]/g, '_')}\r\n` : '';
    sock.write(`SYMBOLS SPAMC/1.5\r\nContent-length: ${size}\r\n${user}\r\n`);
    let sent = 0;
    for await (const data of input) {
      // spamd may answer early (a protocol error) and close: stop sending, read its answer.
      if (sock.destroyed || reply) break;
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
      // Never more than announced: spamd would read the excess as garbage.
      const part = sent + buf.length > size ? buf.subarray(0, size - sent) : buf;
      sent += part.length;
      if (!sock.write(part)) await drainOrClose(sock);
      if (sent >= size) break;
    }
    if (sent < size && !reply && !failure) throw new SpamdUnavailable(`message ended after ${sent} of ${size} bytes`);
    // Half-close like spamc: spamd has the whole message and answers, then closes.
    if (!sock.destroyed) sock.end();
    await closed;
    if (failure instanceof SpamdUnavailable) throw failure;
    if (!reply) throw new SpamdUnavailable(failure ? failure.message : 'spamd closed without a verdict');
    return parseReply(reply);
  } catch (err) {
    if (err instanceof SpamdUnavailable) throw err;
    if (failure instanceof SpamdUnavailable) throw failure;
    throw new SpamdUnavailable((err as Error).message);
  } finally {
    deadlines.dispose();
    sock.destroy();
  }
}
