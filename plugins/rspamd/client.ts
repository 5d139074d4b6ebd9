/**
 * rspamd's scanner protocol: HTTP `POST /checkv2` to the normal worker, the message as the body,
 * the envelope in request headers (Ip, Helo, Hostname, From, Rcpt per recipient, Queue-Id, User,
 * TLS-Version/TLS-Cipher),
 * a JSON reply. The body is piped from the spool with backpressure and a known Content-Length,
 * so a big message is never held in memory; the reply is capped. No hooks, no config.
 */
import http from 'node:http';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { armDeadlines, type ScanTarget } from '../../core/net/scan-socket.ts';

export type RspamdTarget = ScanTarget;

export interface ScanEnvelope {
  readonly ip?: string | undefined;
  readonly helo?: string | undefined;
  readonly hostname?: string | undefined;
  readonly from: string;
  readonly rcpt: readonly string[];
  readonly queueId: string;
  readonly user?: string | undefined;
  readonly password?: string | undefined;
  readonly settingsId?: string | undefined;
  readonly tls?: { readonly protocol?: string | undefined; readonly cipher?: string | undefined } | undefined;
}

/** The part of the /checkv2 reply this plugin uses; unknown fields are ignored. */
const ReplySchema = z.object({
  action: z.string().min(1).max(64),
  score: z.number(),
  required_score: z.number(),
  is_skipped: z.boolean().optional(),
  subject: z.string().optional(),
  symbols: z.record(z.string(), z.object({ score: z.number().optional() }).loose()).optional(),
  messages: z.record(z.string(), z.unknown()).optional(),
  milter: z.object({
    add_headers: z.record(z.string(), z.unknown()).optional(),
    remove_headers: z.record(z.string(), z.unknown()).optional(),
  }).loose().optional(),
}).loose();

export type RspamdReply = z.output<typeof ReplySchema>;

/** rspamd could not be reached, did not answer in time, or answered something unusable. */
export class RspamdUnavailable extends Error {}

export interface CheckOptions {
  readonly connectTimeoutMs: number;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Cap on the reply body (symbols with options can be long). Default 1 MiB. */
  readonly maxReplyBytes?: number;
}

/** Header values must be one line of visible ASCII; anything else is replaced. */
const safe = (v: string) => v.replace(/[^\x20-\x7e]/g, '?').slice(0, 998);

/** Parse a /checkv2 body. Throws RspamdUnavailable on anything that is not a verdict. */
export function parseReply(body: string): RspamdReply {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new RspamdUnavailable('reply is not JSON');
  }
  const r = ReplySchema.safeParse(json);
  if (!r.success) throw new RspamdUnavailable(`reply is not a verdict: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

export function requestHeaders(env: ScanEnvelope, size: number): Record<string, string | string[]> {
  const h: Record<string, string | string[]> = { 'Content-Length': String(size), 'Queue-Id': safe(env.queueId) };
  if (env.ip) h.Ip = safe(env.ip);
  if (env.helo) h.Helo = safe(env.helo);
  if (env.hostname) h.Hostname = safe(env.hostname);
  // The null reverse-path (bounces) has no address; rspamd reads an absent From as such.
  if (env.from) h.From = safe(env.from);
  if (env.rcpt.length) h.Rcpt = env.rcpt.map(safe);
  if (env.user) h.User = safe(env.user);
  if (env.password) h.Password = safe(env.password);
  if (env.settingsId) h['Settings-ID'] = safe(env.settingsId);
  if (env.tls?.protocol) h['TLS-Version'] = safe(env.tls.protocol);
  if (env.tls?.cipher) h['TLS-Cipher'] = safe(env.tls.cipher);
  return h;
}

/** Scan one message. Resolves to rspamd's verdict; rejects with RspamdUnavailable otherwise. */
export async function check(target: RspamdTarget, body: Readable, size: number, env: ScanEnvelope, opts: CheckOptions): Promise<RspamdReply> {
  const maxReply = opts.maxReplyBytes ?? 1024 * 1024;
  const ctl = new AbortController();
  let why = '';
  const stop = (reason: string) => {
    why ||= reason;
    ctl.abort();
  };
  const deadlines = armDeadlines(opts, stop);
  try {
    const req = http.request({
      ...(target.socket ? { socketPath: target.socket } : { host: target.host, port: target.port }),
      method: 'POST',
      path: '/checkv2',
      headers: requestHeaders(env, size),
      signal: ctl.signal,
      agent: false,
    });
    req.once('socket', (s) => {
      if (!s.connecting) deadlines.connected();
      else s.once('connect', () => deadlines.connected());
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', reject);
    });
    // rspamd may answer (an error) before it has read the whole body; the reply still counts.
    const sent = pipeline(body, req).catch((err: unknown) => err as Error);
    const res = await response;
    let text = '';
    let bytes = 0;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      if (bytes > maxReply) throw new RspamdUnavailable(`reply larger than ${maxReply} bytes`);
      text += chunk.toString('utf8');
    }
    const sendError = await sent;
    if (res.statusCode !== 200) throw new RspamdUnavailable(`HTTP ${res.statusCode ?? '?'} ${safe(res.statusMessage ?? '').slice(0, 100)}`);
    // rspamd answers a verdict only once it has read Content-Length bytes, so a 200 with a verdict
    // means the whole message arrived. Its closing the connection right after can then beat our
    // request's 'finish' (seen once on a loaded machine with a 3 MB message): that "premature
    // close" lost nothing. Any other send error still makes the scan unavailable.
    if (sendError instanceof Error && (sendError as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE') {
      throw new RspamdUnavailable(`sending the message: ${sendError.message}`);
    }
    return parseReply(text);
  } catch (err) {
    if (err instanceof RspamdUnavailable) throw err;
    throw new RspamdUnavailable(why || (err as Error).message);
  } finally {
    deadlines.dispose();
  }
}
