/**
 * SEARCH evaluation (RFC 3501 §6.4.4, RFC 7162 §3.1.5 MODSEQ) in three rounds so each message costs
 * only what its program needs: (1) flags, sequence/UID sets, size, internal date, modseq from the
 * index; (2) header fields (from the structure cache, or the header bytes for other names);
 * (3) body text, streamed once with every needle matched at once, stopping at the first full match.
 * Unknowns combine by Kleene logic, so `OR SEEN BODY x` never opens a \Seen message.
 */
import type { FolderView, MessageInfo } from '../../store/mail-store.ts';
import type { SearchKey, SequenceSet } from '../types.ts';
import { charsetDecoder, decodeEncodedWords, transferDecoder } from './decode.ts';
import { ENVELOPE_FIELDS, type MimePart } from './structure.ts';
import { fieldValue, type HeaderField, parseHeader } from './header.ts';

/** The part of a MessageStructure search needs (kept structural, so index.ts owns the type). */
export interface SearchStructure {
  readonly size: number;
  readonly root: MimePart;
}

export interface SearchContext {
  readonly uids: readonly number[];
  seqOf(uid: number): number;
  isRecent(uid: number): boolean;
  structure(uid: number): Promise<SearchStructure>;
  readonly charset?: string;
}

/** Thrown for a CHARSET other than US-ASCII / UTF-8: the session answers NO [BADCHARSET (US-ASCII UTF-8)]. */
export class BadCharsetError extends Error {
  readonly code = 'BADCHARSET';
  constructor(charset: string) {
    super(`unsupported charset ${charset}`);
  }
}

export const SEARCH_CHARSETS = ['US-ASCII', 'UTF-8'] as const;
/** Messages examined at once in the header/body rounds (overlaps file I/O; bounded). */
const CONCURRENCY = 16;
/** Messages taken through rounds 2 and 3 together (one synchronous read batch for round 3). */
const TEXT_BATCH = 128;
/** Header bytes read when a HEADER key names a field the structure does not keep. */
const MAX_HEADER_READ = 1024 * 1024;

type Tri = boolean | undefined;

interface Env {
  readonly uid: number;
  readonly info: MessageInfo;
  /** Round 2+: header values of a field (lower-case name). */
  header?: (name: string) => readonly string[];
  /** Round 3: which text needles the message contains (key: where + lower-case needle). */
  text?: ReadonlySet<string>;
}

interface Limits {
  readonly maxSeq: number;
  readonly maxUid: number;
}

function inSet(n: number, set: SequenceSet, star: number): boolean {
  for (const r of set) {
    const a = r.from === '*' ? star : r.from;
    const b = r.to === '*' ? star : r.to;
    if (n >= Math.min(a, b) && n <= Math.max(a, b)) return true;
  }
  return false;
}

/** YYYY-MM-DD of a Date in UTC (internal dates are served as +0000). */
function utcDay(d: Date): string {
  return d.toISOString().slice(0, 10);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];

/** The date part of an RFC 5322 Date: value as written (time and zone disregarded, §6.4.4). */
export function sentDay(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const m = /(\d{1,2})\s+([a-z]{3})[a-z]*\.?\s+(\d{2,4})/i.exec(raw);
  if (!m) return undefined;
  const month = MONTHS.indexOf((m[2] ?? '').toLowerCase());
  if (month < 0) return undefined;
  let year = Number(m[3]);
  if ((m[3] ?? '').length <= 2) year += year < 50 ? 2000 : 1900; // RFC 5322 §4.3
  else if ((m[3] ?? '').length === 3) year += 1900;
  const day = Number(m[1]);
  if (day < 1 || day > 31) return undefined;
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function compareDay(day: string | undefined, cmp: 'before' | 'on' | 'since', date: string): boolean {
  if (day === undefined) return false;
  if (cmp === 'before') return day < date;
  if (cmp === 'on') return day === date;
  return day >= date;
}

const not = (v: Tri): Tri => (v === undefined ? undefined : !v);

function evaluate(key: SearchKey, env: Env, ctx: SearchContext, lim: Limits): Tri {
  switch (key.op) {
    case 'all':
      return true;
    case 'and': {
      let result: Tri = true;
      for (const k of key.keys) {
        const v = evaluate(k, env, ctx, lim);
        if (v === false) return false;
        if (v === undefined) result = undefined;
      }
      return result;
    }
    case 'or': {
      const a = evaluate(key.a, env, ctx, lim);
      if (a === true) return true;
      const b = evaluate(key.b, env, ctx, lim);
      if (b === true) return true;
      return a === false && b === false ? false : undefined;
    }
    case 'not':
      return not(evaluate(key.key, env, ctx, lim));
    case 'seq':
      return inSet(ctx.seqOf(env.uid), key.set, lim.maxSeq);
    case 'uid':
      return inSet(env.uid, key.set, lim.maxUid);
    case 'flag': {
      const want = key.flag.toLowerCase();
      return env.info.flags.some((f) => f.toLowerCase() === want) === key.set;
    }
    case 'recent':
      return ctx.isRecent(env.uid) === key.set;
    case 'size':
      return key.cmp === 'larger' ? env.info.size > key.n : env.info.size < key.n;
    case 'modseq':
      return env.info.modseq >= key.n;
    case 'date':
      if (key.field === 'internal') return compareDay(utcDay(env.info.internalDate), key.cmp, key.date);
      if (!env.header) return undefined;
      return compareDay(sentDay(env.header('date')[0]), key.cmp, key.date);
    case 'header': {
      if (!env.header) return undefined;
      const values = env.header(key.name.toLowerCase());
      if (key.value === '') return values.length > 0;
      const needle = key.value.toLowerCase();
      return values.some((v) => decodeEncodedWords(v).toLowerCase().includes(needle));
    }
    case 'text':
      if (!env.text) return undefined;
      return env.text.has(textKey(key.where, key.value));
  }
}

function textKey(where: 'body' | 'text', value: string): string {
  return `${where}\u0000${value.toLowerCase()}`;
}

function collectText(key: SearchKey, out: Map<string, { where: 'body' | 'text'; needle: string }>): void {
  switch (key.op) {
    case 'and':
      for (const k of key.keys) collectText(k, out);
      return;
    case 'or':
      collectText(key.a, out);
      collectText(key.b, out);
      return;
    case 'not':
      collectText(key.key, out);
      return;
    case 'text':
      out.set(textKey(key.where, key.value), { where: key.where, needle: key.value.toLowerCase() });
      return;
    default:
      return;
  }
}

/** Leaf text parts whose decoded content BODY/TEXT search (attachments of other types are binary). */
function textParts(part: MimePart, out: MimePart[], depth = 0): void {
  if (depth > 64) return;
  if (part.children) for (const c of part.children) textParts(c, out, depth + 1);
  else if (part.message) textParts(part.message, out, depth + 1);
  else if (part.ct.type === 'text' || part.ct.type === 'multipart') out.push(part);
}

/** Case-insensitive substring matching over a stream of decoded text pieces, per-needle carry. */
class Matcher {
  private readonly found = new Set<string>();
  private tail = '';
  private readonly longest: number;
  constructor(private readonly needles: readonly { key: string; needle: string }[]) {
    this.longest = Math.max(1, ...needles.map((n) => n.needle.length));
  }
  reset(): void {
    this.tail = '';
  }
  feed(text: string): void {
    if (text === '') return;
    const hay = this.tail + text.toLowerCase();
    for (const n of this.needles) if (!this.found.has(n.key) && hay.includes(n.needle)) this.found.add(n.key);
    this.tail = this.longest > 1 ? hay.slice(-(this.longest - 1)) : '';
  }
  done(): boolean {
    return this.found.size === this.needles.length;
  }
  result(): ReadonlySet<string> {
    return this.found;
  }
}

/** Messages up to this size are searched from one synchronous read of the whole file (readPrefixes). */
const WHOLE_READ = 256 * 1024;

/** Header needles (TEXT covers the header, decoded per RFC 2047: RFC 3501 §6.4.4) into `found`. */
function scanHeader(header: Buffer, needles: readonly { key: string; needle: string }[], found: Set<string>): void {
  const m = new Matcher(needles);
  for (const [, v] of parseHeader(header)) {
    m.feed(decodeEncodedWords(v));
    m.reset();
  }
  for (const k of m.result()) found.add(k);
}

/** scanText over the whole message already in memory: no stream, no file round trips. */
function scanTextBytes(
  bytes: Buffer,
  s: SearchStructure,
  wanted: readonly { key: string; where: 'body' | 'text'; needle: string }[],
): ReadonlySet<string> {
  const parts: MimePart[] = [];
  textParts(s.root, parts);
  const found = new Set<string>();
  const textNeedles = wanted.filter((w) => w.where === 'text');
  if (textNeedles.length > 0) scanHeader(bytes.subarray(0, Math.min(s.root.bodyStart, MAX_HEADER_READ)), textNeedles, found);
  const pending = wanted.filter((w) => !found.has(w.key));
  if (pending.length === 0) return found;
  const matcher = new Matcher(pending);
  for (const p of parts) {
    const state = partState(p);
    if (!state || p.end <= p.bodyStart) continue;
    matcher.feed(state.text.decode(state.bytes.write(bytes.subarray(p.bodyStart, p.end)), { stream: true }));
    matcher.feed(state.text.decode(state.bytes.end()));
    matcher.reset();
    if (matcher.done()) break;
  }
  for (const k of matcher.result()) found.add(k);
  return found;
}

async function scanText(
  view: FolderView,
  uid: number,
  s: SearchStructure,
  wanted: readonly { key: string; where: 'body' | 'text'; needle: string }[],
): Promise<ReadonlySet<string>> {
  const parts: MimePart[] = [];
  textParts(s.root, parts);
  const found = new Set<string>();
  // TEXT also covers the header, decoded per RFC 2047 (RFC 3501 §6.4.4).
  const textNeedles = wanted.filter((w) => w.where === 'text');
  if (textNeedles.length > 0) {
    const len = Math.min(s.root.bodyStart, MAX_HEADER_READ);
    scanHeader(await readAll(await view.read(uid, { start: 0, end: len }), len), textNeedles, found);
  }
  const pending = wanted.filter((w) => !found.has(w.key));
  if (pending.length === 0 || parts.length === 0) return found;
  const matcher = new Matcher(pending);
  const first = parts[0]?.bodyStart ?? 0;
  const last = parts[parts.length - 1]?.end ?? 0;
  if (last <= first) return found;
  const stream = await view.read(uid, { start: first, end: last });
  let offset = first;
  let idx = 0;
  let state = partState(parts[0]);
  try {
    for await (const raw of stream) {
      const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(raw as Uint8Array);
      let pos = 0;
      while (pos < chunk.length && idx < parts.length) {
        const p = parts[idx];
        if (!p || !state) break;
        const abs = offset + pos;
        if (abs < p.bodyStart) {
          pos += Math.min(chunk.length - pos, p.bodyStart - abs);
          continue;
        }
        const take = Math.min(chunk.length - pos, p.end - abs);
        if (take > 0) matcher.feed(state.text.decode(state.bytes.write(chunk.subarray(pos, pos + take)), { stream: true }));
        pos += take;
        if (offset + pos >= p.end) {
          matcher.feed(state.text.decode(state.bytes.end()));
          matcher.reset();
          idx++;
          state = partState(parts[idx]);
        }
      }
      offset += chunk.length;
      // Stop at the first full match. Running out of parts needs no break: the range ends there
      // (and breaking out of a file stream costs an AbortError with its stack trace).
      if (matcher.done()) break;
    }
    if (state && idx < parts.length) matcher.feed(state.text.decode(state.bytes.end()));
  } finally {
    stream.destroy();
  }
  for (const k of matcher.result()) found.add(k);
  return found;
}

function partState(p: MimePart | undefined) {
  if (!p) return undefined;
  const enc = (fieldValue(p.fields, 'content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const charset = p.ct.params.find(([n]) => n === 'charset')?.[1];
  return { bytes: transferDecoder(enc), text: charsetDecoder(charset) };
}

async function readAll(stream: AsyncIterable<unknown>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  // The stream is a range of at most `max` bytes: read it to its end rather than break out of it.
  for await (const c of stream) {
    const b = Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array);
    if (n < max) chunks.push(b);
    n += b.length;
  }
  return Buffer.concat(chunks).subarray(0, max);
}

function needsHeaderBytes(key: SearchKey, acc: Set<string>): void {
  switch (key.op) {
    case 'and':
      for (const k of key.keys) needsHeaderBytes(k, acc);
      return;
    case 'or':
      needsHeaderBytes(key.a, acc);
      needsHeaderBytes(key.b, acc);
      return;
    case 'not':
      needsHeaderBytes(key.key, acc);
      return;
    case 'header': {
      const n = key.name.toLowerCase();
      if (!ENVELOPE_FIELDS.has(n) && !n.startsWith('content-')) acc.add(n);
      return;
    }
    default:
      return;
  }
}

function lookup(fields: readonly HeaderField[]): (name: string) => readonly string[] {
  return (name) => fields.filter(([n]) => n === name).map(([, v]) => v);
}

export async function runSearch(view: FolderView, key: SearchKey, ctx: SearchContext): Promise<number[]> {
  if (ctx.charset !== undefined && !SEARCH_CHARSETS.some((c) => c === ctx.charset?.toUpperCase())) throw new BadCharsetError(ctx.charset);
  const lim: Limits = { maxSeq: ctx.uids.length, maxUid: ctx.uids[ctx.uids.length - 1] ?? 0 };
  const texts = new Map<string, { where: 'body' | 'text'; needle: string }>();
  collectText(key, texts);
  const wanted = [...texts.entries()].map(([k, v]) => ({ key: k, ...v }));
  const extraHeaders = new Set<string>();
  needsHeaderBytes(key, extraHeaders);

  const verdict = new Map<number, boolean>();
  const pending: Env[] = [];
  for (const uid of ctx.uids) {
    const info = view.get(uid);
    if (!info) continue; // expunged meanwhile: matches nothing
    const env: Env = { uid, info };
    const v = evaluate(key, env, ctx, lim);
    if (v === undefined) pending.push(env);
    else verdict.set(uid, v);
  }

  // Round 2: structure and header keys. Returns the structure when the body text is still needed.
  const deeper = async (env: Env): Promise<SearchStructure | undefined> => {
    let s: SearchStructure;
    try {
      s = await ctx.structure(env.uid);
    } catch {
      verdict.set(env.uid, false); // unreadable (expunged under us): no match
      return undefined;
    }
    let fields = s.root.fields;
    if (extraHeaders.size > 0) {
      const len = Math.min(s.root.bodyStart, MAX_HEADER_READ);
      fields = parseHeader(await readAll(await view.read(env.uid, { start: 0, end: len }), len));
    }
    env.header = lookup(fields);
    const v = evaluate(key, env, ctx, lim);
    if (v !== undefined) {
      verdict.set(env.uid, v);
      return undefined;
    }
    return s;
  };
  // Round 3: body text. Small messages are read whole, synchronously in bounded slices (the
  // store's readPrefixes, as FETCH ENVELOPE does); larger ones, or a store without it, stream.
  const textRound = async (env: Env, s: SearchStructure): Promise<void> => {
    env.text = await scanText(view, env.uid, s, wanted);
    verdict.set(env.uid, evaluate(key, env, ctx, lim) === true);
  };
  for (let i = 0; i < pending.length; i += TEXT_BATCH) {
    const batch = pending.slice(i, i + TEXT_BATCH);
    const needText: { env: Env; s: SearchStructure }[] = [];
    for (let j = 0; j < batch.length; j += CONCURRENCY) {
      const slice = batch.slice(j, j + CONCURRENCY);
      const structures = await Promise.all(slice.map((env) => deeper(env).catch(() => {
        verdict.set(env.uid, false);
        return undefined;
      })));
      slice.forEach((env, k) => {
        const s = structures[k];
        if (s) needText.push({ env, s });
      });
    }
    const small = view.readPrefixes ? needText.filter((t) => t.s.root.end <= WHOLE_READ) : [];
    if (small.length > 0 && view.readPrefixes) {
      const byUid = new Map(small.map((t) => [t.env.uid, t]));
      const longest = Math.max(...small.map((t) => t.s.root.end));
      await view.readPrefixes(small.map((t) => t.env.uid), longest, (uid, bytes) => {
        const t = byUid.get(uid);
        // A file not there or not the size its structure says: the streaming path decides.
        if (!t || !bytes || bytes.length !== t.s.root.end) return;
        try {
          t.env.text = scanTextBytes(bytes, t.s, wanted);
          verdict.set(uid, evaluate(key, t.env, ctx, lim) === true);
        } catch {
          verdict.set(uid, false);
        }
      });
    }
    const rest = needText.filter((t) => !verdict.has(t.env.uid));
    for (let j = 0; j < rest.length; j += CONCURRENCY) {
      await Promise.all(rest.slice(j, j + CONCURRENCY).map((t) => textRound(t.env, t.s).catch(() => {
        verdict.set(t.env.uid, false);
      })));
    }
  }
  return ctx.uids.filter((uid) => verdict.get(uid) === true);
}

