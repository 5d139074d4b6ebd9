/**
 * A small clamd INSTREAM client (clamd(8), "INSTREAM"): the message is streamed in length-prefixed
 * chunks with backpressure, so a large message is never held in memory, and every step is bounded
 * by a deadline. No hooks, no config: index.ts wires it.
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { armDeadlines, connectTarget, whenConnected, type ScanTarget } from '../../core/net/scan-socket.ts';

export type ClamdTarget = ScanTarget;

export type ScanResult =
  | { kind: 'clean' }
  | { kind: 'infected'; name: string }
  /** clamd answered, but could not scan (its own StreamMaxLength, a read error...). */
  | { kind: 'error'; message: string; sizeLimit: boolean };

/** clamd could not be reached, or did not answer in time. */
export class ClamdUnavailable extends Error {}

export interface ScanOptions {
  readonly connectTimeoutMs: number;
  /** The whole scan: connect, send, verdict. */
  readonly timeoutMs: number;
  readonly chunkBytes?: number;
  readonly signal?: AbortSignal;
}

/** Parse clamd's answer to INSTREAM: `stream: OK`, `stream: NAME FOUND`, `... ERROR`. */
export function parseReply(text: string): ScanResult {
  const line = text.replace(/\0/g, '').trim();
  const m = /^(?:stream|\d+): (.*)$/.exec(line);
  const body = (m ? m[1] : line) ?? '';
  if (body === 'OK') return { kind: 'clean' };
  const found = /^(.+) FOUND$/.exec(body);
  if (found?.[1]) return { kind: 'infected', name: found[1] };
  return { kind: 'error', message: body.replace(/ ERROR$/, '') || 'empty reply', sizeLimit: /size limit/i.test(body) };
}

function frameHead(length: number): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(length, 0);
  return head;
}

const TERMINATOR = Buffer.alloc(4);

/**
 * One INSTREAM request: the command, the input in length-prefixed frames of up to `chunkBytes`
 * with backpressure (the input is paused until the socket drains), and the zero-length frame
 * that ends it. Stops early once `answered()` (clamd may answer before the end, e.g. at its size
 * limit, and close) or the socket closes. Pieces of one frame go out in one corked write,
 * without copying the message; a small message is a single write. Plain stream events: an async
 * iterator cost more than the rest of a small scan. The input is destroyed when done.
 */
export function sendInstream(sock: Socket, input: Readable, o: { command: string; chunkBytes: number; answered: () => boolean }): Promise<void> {
  let lead: Buffer[] = [Buffer.from(o.command, 'latin1')];
  /** Write the parts (after the command, the first time); false when the socket buffer is full. */
  const send = (parts: Buffer[]): boolean => {
    sock.cork();
    let ok = true;
    for (const p of [...lead, ...parts]) ok = sock.write(p);
    lead = [];
    sock.uncork();
    return ok;
  };
  // Small reads are gathered into chunks of up to chunkBytes: one frame per read would mean
  // thousands of tiny writes for a message read line by line.
  let pending: Buffer[] = [];
  let pendingLen = 0;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const finish = (err?: Error) => {
      if (settled) return;
      settled = true;
      input.off('data', onData);
      input.off('end', onEnd);
      input.off('error', onError);
      sock.off('drain', onDrain);
      sock.off('close', onClose);
      input.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onData = (data: Buffer | string) => {
      if (o.answered() || sock.destroyed) return finish();
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      pending.push(buf);
      pendingLen += buf.length;
      if (pendingLen < o.chunkBytes) return;
      let all = pending.length === 1 ? buf : Buffer.concat(pending, pendingLen);
      let ok = true;
      while (all.length >= o.chunkBytes && !o.answered()) {
        ok = send([frameHead(o.chunkBytes), all.subarray(0, o.chunkBytes)]) && ok;
        all = all.subarray(o.chunkBytes);
      }
      pending = all.length ? [all] : [];
      pendingLen = all.length;
      if (!ok) {
        // A destroyed socket never drains (its close may have been emitted already).
        if (sock.destroyed) return finish();
        input.pause();
        sock.once('drain', onDrain);
      }
    };
    const onDrain = () => {
      if (o.answered()) return finish();
      input.resume();
    };
    // clamd closed the connection: there is nothing more to send (its answer, if any, is read).
    const onClose = () => finish();
    const onEnd = () => {
      if (!o.answered()) {
        const rest = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingLen);
        send(pendingLen ? [frameHead(pendingLen), rest, TERMINATOR] : [TERMINATOR]);
      }
      finish();
    };
    const onError = (err: Error) => finish(err);
    sock.once('close', onClose);
    input.on('data', onData);
    input.once('end', onEnd);
    input.once('error', onError);
  });
}

/** Scan one stream. Resolves to clean/infected/error; rejects with ClamdUnavailable when clamd is down or slow. */
export async function scanStream(target: ClamdTarget, input: Readable, opts: ScanOptions): Promise<ScanResult> {
  const chunkBytes = opts.chunkBytes ?? 64 * 1024;
  const sock = connectTarget(target);
  let reply = '';
  let failure: Error | undefined;
  const ended = new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      reply += d.toString('latin1');
      // clamd ends its answer with NUL (z-prefixed command); no need to wait for the close.
      if (reply.includes('\0')) resolve();
    });
    sock.once('close', () => resolve());
    sock.once('error', (err) => {
      failure ??= err;
      resolve();
    });
  });
  const stop = (why: string) => {
    failure ??= new ClamdUnavailable(why);
    sock.destroy();
    input.destroy();
  };
  const deadlines = armDeadlines(opts, stop);
  try {
    await whenConnected(sock, () => failure ?? new ClamdUnavailable('closed before connect')).catch((err: Error) => {
      throw err instanceof ClamdUnavailable ? err : new ClamdUnavailable(err.message);
    });
    deadlines.connected();
    await sendInstream(sock, input, { command: 'zINSTREAM\0', chunkBytes, answered: () => sock.destroyed || reply.includes('\0') });
    await ended;
    if (reply.includes('\0') || (reply && !failure)) return parseReply(reply);
    if (failure instanceof ClamdUnavailable) throw failure;
    throw new ClamdUnavailable(failure ? failure.message : 'clamd closed without a verdict');
  } catch (err) {
    if (reply.includes('\0')) return parseReply(reply);
    if (err instanceof ClamdUnavailable) throw err;
    if (failure instanceof ClamdUnavailable) throw failure;
    throw new ClamdUnavailable((err as Error).message);
  } finally {
    deadlines.dispose();
    sock.destroy();
  }
}
