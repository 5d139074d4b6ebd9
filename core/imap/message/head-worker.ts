/**
 * Body of the head-reading worker thread (head-reader.ts starts it): for a batch of message files it
 * reads the first bytes of each (HEAD_READ, then up to MAX_HEADER_BYTES when the header goes on),
 * parses the header-only summary (head.ts) and writes the ENVELOPE wire text (envelope.ts) — the
 * same functions the session's thread would run, so the answers are the same bytes. A cold
 * whole-folder FETCH then costs the session's event loop little more than copying the results out.
 *
 * Protocol: HeadRequest in, HeadReply out (one per request, same id); `ready` once loaded.
 */
import { readPrefixSync } from '../../fs/read-prefix.ts';
import { parentPort } from 'node:worker_threads';
import { envelopeTextOf } from './envelope.ts';
import { headFromPrefix } from './head.ts';
import type { HeaderField } from './header.ts';
import { MAX_HEADER_BYTES } from './structure.ts';

export interface HeadRequest {
  readonly id: number;
  /** One path per message (null: not known, answered as MISSING). */
  readonly paths: readonly (string | null)[];
  readonly sizes: readonly number[];
  /** First read per file (the rest of a header is read in a second pass, up to MAX_HEADER_BYTES). */
  readonly length: number;
}

export interface HeadReply {
  readonly id: number;
  /** Per message: end of header ≥ 0, or GONE (no such file: renamed or expunged) or MISSING (anything else). */
  readonly bodyStart: Int32Array;
  /**
   * The ENVELOPE fields of every message as JSON arrays one after the other (message i's ends at
   * fieldsEnd[i]): one string crosses the thread boundary instead of a few dozen small objects per
   * message, is parsed only when a field is needed, and goes into the summary file as it is.
   */
  readonly fieldsJson: string;
  readonly fieldsEnd: Int32Array;
  /** The ENVELOPE texts (`ENVELOPE (…)`, UTF-8) one after the other; message i's ends at envEnd[i]. */
  readonly env: Uint8Array;
  readonly envEnd: Int32Array;
  readonly error?: string;
}

/** No file at the path (another tool renamed it, or it was expunged): the caller looks again. */
export const GONE = -2;
/** Unreadable, or no head within MAX_HEADER_BYTES: the caller's own read reports it or parses it whole. */
export const MISSING = -1;
/** Parses run at start (warmUp). */
const WARM_UP_ROUNDS = 3000;

/** Reads and parses one batch; pure apart from the file reads (exported for the equivalence test). */
export function readHeads(req: HeadRequest, scratch: { buf: Buffer }): HeadReply {
  const n = req.paths.length;
  const bodyStart = new Int32Array(n);
  const envEnd = new Int32Array(n);
  const fieldsEnd = new Int32Array(n);
  let fieldsJson = '';
  // Own ArrayBuffers (never the shared pool's), so the reply can transfer them without a copy.
  let env = Buffer.from(new ArrayBuffer(Math.max(1024, n * 512)));
  let envLen = 0;
  for (let i = 0; i < n; i++) {
    const file = req.paths[i];
    const size = req.sizes[i] ?? 0;
    let start = MISSING;
    let got: readonly HeaderField[] = [];
    if (file) {
      try {
        for (const length of [req.length, MAX_HEADER_BYTES]) {
          if (scratch.buf.length < length) scratch.buf = Buffer.allocUnsafe(length);
          const read = readPrefixSync(file, scratch.buf, length);
          const h = headFromPrefix(scratch.buf, read, size);
          if (h) {
            start = h.bodyStart;
            got = h.fields;
            break;
          }
          if (read < length) break; // the file ended early (changed under us): the caller's read decides
        }
      } catch (err) {
        start = (err as NodeJS.ErrnoException).code === 'ENOENT' ? GONE : MISSING;
      }
    }
    bodyStart[i] = start;
    if (start >= 0) fieldsJson += JSON.stringify(got);
    fieldsEnd[i] = fieldsJson.length;
    if (start >= 0) {
      const text = envelopeTextOf(got);
      const need = envLen + text.length * 3;
      if (need > env.length) {
        const bigger = Buffer.from(new ArrayBuffer(Math.max(need, env.length * 2)));
        env.copy(bigger, 0, 0, envLen);
        env = bigger;
      }
      envLen += env.write(text, envLen, 'utf8');
    }
    envEnd[i] = envLen;
  }
  return { id: req.id, bodyStart, fieldsJson, fieldsEnd, env: env.subarray(0, envLen), envEnd };
}

/** Headers of the usual kinds (display names quoted or not, encoded words, lists, groups, folding). */
const SAMPLES = [
  'Return-Path: <a@x.test>\r\nReceived: from mx.x.test by mx.y.test; Fri, 27 Nov 2026 10:00:00 +0000\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\nFrom: "Ann Example" <ann@x.test>\r\nTo: Bob <bob@y.test>, "Carl, C." <carl@y.test>\r\nSubject: Re: the plan\r\nMessage-ID: <1@x.test>\r\nIn-Reply-To: <0@x.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nbody\r\n',
  'From: =?UTF-8?B?w4lsaWU=?= <elie@x.test>\r\nTo: team: a@x.test, b@x.test;\r\nCc: c@x.test (C)\r\nSubject: =?UTF-8?Q?caf=C3=A9?=\r\n  folded\r\nDate: Sat, 28 Nov 2026 01:02:03 +0100\r\nMIME-Version: 1.0\r\n\r\nb',
  'Date: Sun, 29 Nov 2026 12:00:00 -0500\r\nFrom: plain@x.test\r\nSender: list@x.test\r\nReply-To: "List" <list@x.test>\r\nTo: undisclosed-recipients:;\r\nBcc: hidden@x.test\r\nSubject: \\"quoted\\" and \\\\ back\r\nX-Mailer: m\r\n\r\nb',
].map((t) => Buffer.from(t, 'utf8'));

/**
 * Runs the parse and ENVELOPE code over SAMPLES before the worker says it is ready: a freshly
 * started thread would otherwise compile it during the first cold FETCH (measured: a third of that
 * FETCH's CPU in a just-started server). A few ms of CPU once, at server start.
 */
function warmUp(rounds: number): void {
  for (let i = 0; i < rounds; i++) {
    const m = SAMPLES[i % SAMPLES.length] ?? Buffer.alloc(0);
    const h = headFromPrefix(m, m.length, m.length);
    if (h) envelopeTextOf(h.fields);
  }
}

const port = parentPort;
if (port) {
  warmUp(WARM_UP_ROUNDS);
  const scratch = { buf: Buffer.allocUnsafe(16 * 1024) };
  port.on('message', (req: HeadRequest) => {
    let reply: HeadReply;
    try {
      reply = readHeads(req, scratch);
    } catch (err) {
      reply = { id: req.id, bodyStart: new Int32Array(0), fieldsJson: '', fieldsEnd: new Int32Array(0), env: new Uint8Array(0), envEnd: new Int32Array(0), error: String(err) };
    }
    // The ENVELOPE bytes move without a copy.
    port.postMessage(reply, [reply.env.buffer as ArrayBuffer]);
  });
  port.postMessage({ ready: true });
}
