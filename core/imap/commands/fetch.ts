/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CONDSTORE MODSEQ / CHANGEDSINCE
 * (RFC 7162 §3.1.4). Structure, envelope and sections come from the message layer; the whole
 * message (BODY[], RFC822) is streamed straight from the store.
 */
import type { Readable } from 'node:stream';
import type { FolderView, MessageInfo } from '../../store/mail-store.ts';
import { isMailStoreError } from '../../store/errors.ts';
import { encode } from '../encoder.ts';
import { bodyStructure, envelopeBytes, readHeadSection, readSection, type MessageHead, type MessageStructure } from '../message/index.ts';
import { ParseError, type Cursor } from '../parser/cursor.ts';
import { formatDateTime } from '../parser/date.ts';
import { parseFetch, type FetchItem } from '../parser/fetch.ts';
import { parseSequenceSet, resolveSeqSet, resolveUidSet } from '../parser/sequence.ts';
import { flagList } from '../responses.ts';
import type { ImapSession } from '../session.ts';
import type { SectionSpec, Partial } from '../types.ts';
import { ok, SELECTED, type CommandSpec, type Outcome } from './types.ts';

const HEADER: SectionSpec = { part: [], text: 'HEADER' };
const TEXT: SectionSpec = { part: [], text: 'TEXT' };

/** Which items mark the message \Seen (RFC 3501 §6.4.5: BODY[…] without .PEEK, RFC822, RFC822.TEXT). */
function setsSeen(items: readonly FetchItem[]): boolean {
  return items.some((i) => (i.kind === 'section' && !i.peek) || i.kind === 'RFC822' || i.kind === 'RFC822.TEXT');
}

function needsStructure(items: readonly FetchItem[]): boolean {
  return items.some((i) => i.kind === 'ENVELOPE' || i.kind === 'BODY' || i.kind === 'BODYSTRUCTURE' || i.kind === 'RFC822.HEADER' || i.kind === 'RFC822.TEXT'
    || (i.kind === 'section' && (i.section.part.length > 0 || i.section.text !== undefined)));
}

/** A header section of the whole message: BODY[HEADER], BODY[HEADER.FIELDS (…)], BODY[HEADER.FIELDS.NOT (…)]. */
function isTopHeader(section: SectionSpec): boolean {
  return section.part.length === 0 && section.text !== undefined && section.text !== 'TEXT' && section.text !== 'MIME';
}

/**
 * Items the header-only summary serves (no MIME parse of the body): ENVELOPE and the whole
 * message's header sections, beside what needs no structure at all (FLAGS, UID, sizes, BODY[]).
 */
function headersSuffice(items: readonly FetchItem[]): boolean {
  return items.every((i) => i.kind !== 'BODY' && i.kind !== 'BODYSTRUCTURE' && i.kind !== 'RFC822.TEXT'
    && !(i.kind === 'section' && (i.section.part.length > 0 || i.section.text !== undefined) && !isTopHeader(i.section)));
}

export function resolveSet(s: ImapSession, c: Cursor, uid: boolean): number[] {
  const sel = s.selected!;
  const set = parseSequenceSet(c);
  if (uid) return resolveUidSet(set, sel.uids);
  const uids = resolveSeqSet(set, sel.uids);
  if (!uids) throw new ParseError('Invalid message sequence number');
  return uids;
}

async function fetch(s: ImapSession, c: Cursor, uid: boolean): Promise<Outcome> {
  const sel = s.selected!;
  const view = sel.view;
  const uids = resolveSet(s, c, uid);
  c.sp();
  const req = parseFetch(c);
  c.end();
  const items = [...req.items];
  if (uid && !items.some((i) => i.kind === 'UID')) items.unshift({ kind: 'UID' });
  if (items.some((i) => i.kind === 'MODSEQ') || req.changedSince !== undefined) s.condstore = true;
  // RFC 7162 §3.1.4.1: CHANGEDSINCE implies MODSEQ.
  if (req.changedSince !== undefined && !items.some((i) => i.kind === 'MODSEQ')) items.push({ kind: 'MODSEQ' });
  const markSeen = setsSeen(items) && !view.readOnly;
  const structure = needsStructure(items);
  const headOnly = structure && headersSuffice(items);
  if (!markSeen && items.every((i) => LINE_ITEMS.has(i.kind))) {
    const under = await fetchLines(s, uids, items, req.changedSince);
    return ok(`${uid ? 'UID FETCH' : 'FETCH'} completed${under ? ' (some messages were expunged meanwhile)' : ''}`);
  }
  let expungedUnder = false;
  for (const u of uids) {
    let info = view.get(u);
    if (!info) {
      // RFC 2180 §4.1.2: expunged by another session; the client hears of it at the next NOOP.
      expungedUnder = true;
      continue;
    }
    if (req.changedSince !== undefined && info.modseq <= req.changedSince) continue;
    let addFlags = false;
    if (markSeen && !info.flags.includes('\\Seen')) {
      const r = await view.setFlags([u], { mode: 'add', flags: ['\\Seen'] });
      info = view.get(u) ?? info;
      addFlags = r.changed.length > 0 && !items.some((i) => i.kind === 'FLAGS');
    }
    const seq = sel.seqOf(u);
    if (!seq) continue;
    const all = addFlags ? [...items, { kind: 'FLAGS' } as FetchItem] : items;
    // Everything that can fail (parsing, opening bodies) happens before the first byte of the
    // response, so a message expunged meanwhile is skipped instead of leaving half a FETCH.
    const pieces: Piece[] = [];
    try {
      const struct = !structure ? undefined : headOnly ? await s.env.cache.head(view, u) : await s.env.cache.get(view, u);
      for (const item of all) {
        const p = prepareItem(s, item, info, struct);
        pieces.push(p instanceof Promise ? await p : p);
      }
    } catch (err) {
      for (const p of pieces) p.body?.stream.destroy();
      if (!isMailStoreError(err, 'EXPUNGEISSUE') && !isMailStoreError(err, 'NONEXISTENT')) throw err;
      expungedUnder = true;
      continue;
    }
    await sendPieces(s, seq, pieces, u);
  }
  return ok(`${uid ? 'UID FETCH' : 'FETCH'} completed${expungedUnder ? ' (some messages were expunged meanwhile)' : ''}`);
}

/** Items answered from the index and the cached head alone: what a client lists a folder with. */
const LINE_ITEMS: ReadonlySet<FetchItem['kind']> = new Set(['UID', 'FLAGS', 'ENVELOPE', 'RFC822.SIZE', 'INTERNALDATE', 'MODSEQ']);
/** Response bytes handed to the session at a time. */
const LINE_BATCH = 64 * 1024;

/**
 * FETCH of LINE_ITEMS only (no \Seen to set, nothing streamed): each response is written straight
 * into a batch buffer — short text as bytes, the ENVELOPE as the bytes memoised on the cached head —
 * and a cached head is taken without a promise, so a warm whole-folder FETCH costs little per message.
 * Returns whether some messages were expunged meanwhile (RFC 2180 §4.1.2).
 */
async function fetchLines(s: ImapSession, uids: readonly number[], items: readonly FetchItem[], changedSince: number | undefined): Promise<boolean> {
  const sel = s.selected!;
  const view = sel.view;
  const cache = s.env.cache;
  const needsHead = items.some((i) => i.kind === 'ENVELOPE');
  const out = new LineBuffer(LINE_BATCH);
  let under = false;
  for (const u of uids) {
    const info = view.get(u);
    if (!info) {
      under = true;
      continue;
    }
    if (changedSince !== undefined && info.modseq <= changedSince) continue;
    const seq = sel.seqOf(u);
    if (!seq) continue;
    let head: MessageHead | undefined;
    if (needsHead) {
      head = cache.peekHead(view, u);
      if (!head) {
        try {
          head = await cache.head(view, u);
        } catch (err) {
          if (!isMailStoreError(err, 'EXPUNGEISSUE') && !isMailStoreError(err, 'NONEXISTENT')) throw err;
          under = true;
          continue;
        }
      }
    }
    out.text(`* ${seq} FETCH (`);
    for (let i = 0; i < items.length; i++) {
      if (i) out.text(' ');
      const item = items[i];
      if (item.kind === 'ENVELOPE') out.bytes(envelopeBytes(head!));
      else out.text(textItem(view, item, info));
    }
    out.text(')\r\n');
    if (out.length >= LINE_BATCH) {
      await s.send(out.take());
      if (s.closed) return under; // the client went away: no point building the rest
    }
  }
  if (out.length) await s.send(out.take());
  return under;
}

/** A growing byte buffer of whole response lines, handed over (and started afresh) by `take()`. */
class LineBuffer {
  #buf: Buffer;
  #len = 0;
  constructor(private readonly size: number) {
    this.#buf = Buffer.allocUnsafe(size + 4096);
  }
  get length(): number {
    return this.#len;
  }
  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(bigger, 0, 0, this.#len);
    this.#buf = bigger;
  }
  text(t: string): void {
    this.#room(t.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 unit
    this.#len += this.#buf.write(t, this.#len, 'utf8');
  }
  bytes(b: Buffer): void {
    this.#room(b.length);
    this.#len += b.copy(this.#buf, this.#len);
  }
  take(): Buffer {
    const done = this.#buf.subarray(0, this.#len);
    this.#buf = Buffer.allocUnsafe(this.size + 4096);
    this.#len = 0;
    return done;
  }
}

/**
 * One response: the text between streamed bodies goes out as one Buffer (a whole-folder FETCH is
 * one send per message, not one per item).
 */
async function sendPieces(s: ImapSession, seq: number, pieces: readonly Piece[], uid: number): Promise<void> {
  let text = `* ${seq} FETCH (`;
  let bufs: Buffer[] | undefined;
  for (let i = 0; i < pieces.length; i++) {
    const p = pieces[i];
    if (i) text += ' ';
    if (typeof p.head === 'string') text += p.head;
    else {
      bufs ??= [];
      bufs.push(Buffer.from(text, 'utf8'), p.head);
      text = '';
    }
    if (p.body) {
      if (bufs) {
        bufs.push(Buffer.from(text, 'utf8'));
        await s.send(Buffer.concat(bufs));
        bufs = undefined;
      } else await s.send(text);
      text = '';
      await pipeExactly(s, p.body.stream, p.body.length, uid);
    }
  }
  text += ')\r\n';
  if (!bufs) return s.send(text);
  bufs.push(Buffer.from(text, 'utf8'));
  return s.send(Buffer.concat(bufs));
}

/** One FETCH item: its text (with a literal's `{n}` header) and, for bodies, the stream to follow. */
interface Piece {
  readonly head: string | Buffer;
  readonly body?: { readonly stream: Readable; readonly length: number };
}

/** The items that are short text from the index alone. */
function textItem(view: FolderView, item: FetchItem, info: MessageInfo): string {
  switch (item.kind) {
    case 'UID': return `UID ${info.uid}`;
    case 'FLAGS': return `FLAGS ${flagList(info.flags, view.isRecent(info.uid))}`;
    case 'INTERNALDATE': return `INTERNALDATE "${formatDateTime(info.internalDate)}"`;
    case 'RFC822.SIZE': return `RFC822.SIZE ${info.size}`;
    case 'MODSEQ': return `MODSEQ (${info.modseq})`;
    default: throw new Error(`FETCH item ${item.kind} is not index text`);
  }
}

/** Synchronous for the items that need no I/O (the common FLAGS / ENVELOPE case). */
function prepareItem(s: ImapSession, item: FetchItem, info: MessageInfo, struct: MessageStructure | MessageHead | undefined): Piece | Promise<Piece> {
  const view = s.selected!.view;
  switch (item.kind) {
    case 'UID': case 'FLAGS': case 'INTERNALDATE': case 'RFC822.SIZE': case 'MODSEQ': return { head: textItem(view, item, info) };
    case 'ENVELOPE': return { head: envelopeBytes(struct!) };
    case 'BODY': return { head: encode(bodyStructure(full(struct), false), 'BODY ') };
    case 'BODYSTRUCTURE': return { head: encode(bodyStructure(full(struct), true), 'BODYSTRUCTURE ') };
    case 'RFC822': return whole(s, 'RFC822 ', info);
    case 'RFC822.HEADER': return section(view, info.uid, struct!, HEADER).then((d) => literal('RFC822.HEADER ', d));
    case 'RFC822.TEXT': return readSection(view, info.uid, full(struct), TEXT).then((d) => literal('RFC822.TEXT ', d));
    case 'section': {
      const name = item.name + (item.partial ? `<${item.partial.start}>` : '') + ' ';
      if (!item.section.part.length && !item.section.text) return whole(s, name, info, item.partial);
      return section(view, info.uid, struct!, item.section, item.partial).then((d) => literal(name, d));
    }
  }
}

/** The full structure (the item needs it: headersSuffice said no, so it was fetched whole). */
function full(struct: MessageStructure | MessageHead | undefined): MessageStructure {
  if (!struct || !('root' in struct)) throw new Error('FETCH item needs the full message structure');
  return struct;
}

function section(view: FolderView, uid: number, struct: MessageStructure | MessageHead, spec: SectionSpec, partial?: Partial): Promise<Buffer | Readable> {
  return 'root' in struct ? readSection(view, uid, struct, spec, partial) : readHeadSection(view, uid, struct, spec, partial);
}

/** The whole message (or a byte range of it), streamed with its size known up front. */
async function whole(s: ImapSession, name: string, info: MessageInfo, partial?: Partial): Promise<Piece> {
  const start = partial ? Math.min(partial.start, info.size) : 0;
  const end = partial ? Math.min(info.size, start + partial.length) : info.size;
  const length = end - start;
  const head = `${name}{${length}}\r\n`;
  if (!length) return { head };
  return { head, body: { stream: await s.selected!.view.read(info.uid, { start, end }), length } };
}

async function literal(name: string, data: Buffer | Readable): Promise<Piece> {
  if (Buffer.isBuffer(data)) return { head: Buffer.concat([Buffer.from(`${name}{${data.length}}\r\n`), data]) };
  const known = (data as Readable & { byteLength?: unknown }).byteLength;
  // The message layer's SectionStream knows its length up front: stream it.
  if (typeof known === 'number') return { head: `${name}{${known}}\r\n`, body: { stream: data, length: known } };
  // Otherwise the length is unknown until read; sections are bounded by the message size.
  const parts: Buffer[] = [];
  for await (const chunk of data as AsyncIterable<Buffer>) parts.push(chunk);
  const buf = Buffer.concat(parts);
  return { head: Buffer.concat([Buffer.from(`${name}{${buf.length}}\r\n`), buf]) };
}

/** Send exactly `length` bytes of `stream` (truncated or space-padded: the literal length is on the wire). */
async function pipeExactly(s: ImapSession, stream: Readable, length: number, uid?: number): Promise<void> {
  let sent = 0;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (sent >= length || s.closed) break;
      const piece = chunk.length > length - sent ? chunk.subarray(0, length - sent) : chunk;
      await s.send(piece);
      sent += piece.length;
    }
  } finally {
    stream.destroy();
  }
  if (sent < length && !s.closed) {
    s.env.log.warn({ event: 'imap.size_mismatch', session: s.env.id, uid, listed: length, sent }, 'message shorter than its size; padded');
    await s.send(Buffer.alloc(length - sent, 0x20));
  }
}

export const FETCH_COMMANDS: Record<string, CommandSpec> = {
  FETCH: { states: SELECTED, run: (s, _t, c, uid) => fetch(s, c, uid), expungeOk: false },
};
