import { createHash, sign as cryptoSign, type KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { headerFields, relaxedHeader, RelaxedBodyHash } from './canonical.ts';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface SigningKey {
  readonly selector: string;
  readonly algorithm: DkimAlgorithm;
  readonly key: KeyObject;
}

export interface SignOptions {
  /** d= (A-labels). */
  readonly domain: string;
  readonly keys: readonly SigningKey[];
  /** Header names to sign (every instance present). */
  readonly headers: readonly string[];
  /** Header names signed once more than present, so none can be added later (RFC 6376 §8.15). */
  readonly oversign: readonly string[];
  /** Signature time in seconds (t=). */
  readonly now: number;
  /** x= seconds after t=, when set. */
  readonly expireSeconds?: number;
}

/** Longest header section read before giving up (a message without an end of its header). */
const MAX_HEADER_BYTES = 1024 * 1024;

export interface ReadMessage {
  /** The header fields, raw (folding kept), top to bottom. */
  readonly fields: string[];
  /** Relaxed body hash, base64 (bh=). */
  readonly bodyHash: string;
}

/** One pass over the message: the header section is kept, the body only hashed. */
export async function readForSigning(src: Readable): Promise<ReadMessage> {
  const body = new RelaxedBodyHash();
  let head = '';
  let inHeader = true;
  for await (const chunk of src as AsyncIterable<Buffer>) {
    if (!inHeader) {
      body.update(chunk);
      continue;
    }
    head += chunk.toString('latin1');
    const end = head.startsWith('\r\n') ? 0 : head.indexOf('\r\n\r\n');
    if (end >= 0) {
      inHeader = false;
      const rest = head.slice(end === 0 ? 2 : end + 4);
      head = end === 0 ? '' : head.slice(0, end + 2);
      if (rest) body.update(Buffer.from(rest, 'latin1'));
    } else if (head.length > MAX_HEADER_BYTES) {
      src.destroy();
      throw new Error('header section too long to sign');
    }
  }
  return { fields: headerFields(head), bodyHash: body.digest() };
}

/** The h= list: every present instance of each name, plus one more for oversigned names. */
export function headerList(fields: readonly string[], names: readonly string[], oversign: readonly string[]): string[] {
  const present = new Map<string, number>();
  for (const f of fields) {
    const n = f.slice(0, f.indexOf(':')).trim().toLowerCase();
    present.set(n, (present.get(n) ?? 0) + 1);
  }
  const over = new Set(oversign.map((n) => n.toLowerCase()));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const name of [...names, ...oversign]) {
    const lower = name.toLowerCase();
    if (seen.has(lower)) continue;
    seen.add(lower);
    const count = (present.get(lower) ?? 0) + (over.has(lower) ? 1 : 0);
    for (let i = 0; i < count; i++) out.push(name);
  }
  return out;
}

/** RFC 6376 §5.4.2: each name in h= takes the next instance from the bottom; a missing one adds nothing. */
function selectFields(fields: readonly string[], h: readonly string[]): string[] {
  const byName = new Map<string, string[]>();
  for (const f of fields) {
    const n = f.slice(0, f.indexOf(':')).trim().toLowerCase();
    const list = byName.get(n) ?? [];
    list.push(f);
    byName.set(n, list);
  }
  const out: string[] = [];
  for (const name of h) {
    const f = byName.get(name.toLowerCase())?.pop();
    if (f !== undefined) out.push(f);
  }
  return out;
}

/** Fold a colon-separated list so no line grows past ~76 columns. */
function foldList(items: readonly string[], sep: string): string {
  let line = '';
  const lines: string[] = [];
  for (const [i, it] of items.entries()) {
    const piece = (i ? sep : '') + it;
    if (line.length + piece.length > 70 && line) {
      lines.push(line);
      line = piece;
    } else line += piece;
  }
  lines.push(line);
  return lines.join('\r\n\t');
}

const chunks = (s: string, n: number) => s.match(new RegExp(`.{1,${n}}`, 'g')) ?? [''];

/**
 * DKIM-Signature header values (RFC 6376 §3.5; Ed25519 per RFC 8463), one per key, ready for
 * `tx.addHeader('DKIM-Signature', value)`. Canonicalization relaxed/relaxed.
 */
export function signatures(msg: ReadMessage, o: SignOptions): string[] {
  const h = headerList(msg.fields, o.headers, o.oversign);
  const canonHeaders = selectFields(msg.fields, h).map((f) => relaxedHeader(f) + '\r\n').join('');
  return o.keys.map((k) => {
    const tags = [
      `v=1; a=${k.algorithm}; c=relaxed/relaxed; d=${o.domain}; s=${k.selector};`,
      `t=${o.now};${o.expireSeconds ? ` x=${o.now + o.expireSeconds};` : ''}`,
      `h=${foldList(h, ':')};`,
      `bh=${msg.bodyHash};`,
      'b=',
    ].join('\r\n\t');
    // The signature covers the selected fields, then this field with an empty b= (§3.7), no CRLF.
    const data = Buffer.from(canonHeaders + relaxedHeader(`DKIM-Signature: ${tags}`), 'latin1');
    const sig = k.algorithm === 'rsa-sha256'
      ? cryptoSign('sha256', data, k.key)
      : cryptoSign(null, createHash('sha256').update(data).digest(), k.key);
    return tags + chunks(sig.toString('base64'), 72).join('\r\n\t');
  });
}
