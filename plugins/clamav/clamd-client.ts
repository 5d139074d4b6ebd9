/**
 * A small clamd INSTREAM client (clamd(8), "INSTREAM"): the message is streamed in length-prefixed
 * chunks with backpressure, so a large message is never held in memory, and every step is bounded
 * by a deadline. No hooks, no config: index.ts wires it.
 */
import type { Readable } from 'node:stream';
import { armDeadlines, connectTarget, drainOrClose, whenConnected, type ScanTarget } from '../../core/net/scan-socket.ts';

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

function frame(chunk: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(chunk.length, 0);
  return Buffer.concat([head, chunk]);
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
    sock.write('zINSTREAM\0');
    const answered = () => sock.destroyed || reply.includes('\0');
    const send = async (chunk: Buffer) => {
      if (!sock.write(frame(chunk))) await drainOrClose(sock);
    };
    // Small reads are gathered into chunks of up to chunkBytes: one frame per read would mean
    // thousands of tiny writes for a message read line by line.
    let pending: Buffer[] = [];
    let pendingLen = 0;
    for await (const data of input) {
      // clamd may answer early (its size limit) and close: stop sending, read its answer.
      if (answered()) break;
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data as string);
      pending.push(buf);
      pendingLen += buf.length;
      if (pendingLen < chunkBytes) continue;
      let all = Buffer.concat(pending, pendingLen);
      while (all.length >= chunkBytes && !answered()) {
        await send(all.subarray(0, chunkBytes));
        all = all.subarray(chunkBytes);
      }
      pending = all.length ? [all] : [];
      pendingLen = all.length;
    }
    if (pendingLen && !answered()) await send(Buffer.concat(pending, pendingLen));
    if (!sock.destroyed && !reply.includes('\0')) sock.write(Buffer.alloc(4));
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
