/**
 * BODY[section]<partial> (RFC 3501 §6.4.5): section numbering over the parsed tree and the byte
 * ranges it names. Whole ranges stream from the store; HEADER.FIELDS(.NOT) are built from the
 * header bytes (read up to a bound) and returned as a Buffer.
 */
import type { Readable } from 'node:stream';
import type { FolderView } from '../../store/mail-store.ts';
import type { Partial, SectionSpec } from '../types.ts';
import type { MimePart } from './structure.ts';

/** Header bytes read for HEADER.FIELDS(.NOT); a header beyond this is cut (memory bound). */
export const MAX_FIELDS_HEADER_BYTES = 1024 * 1024;

/** A section served from the store, with its length known up front (the literal's `{n}`). */
export type SectionStream = Readable & { readonly byteLength: number };

/** The entity a part path names, or undefined when it names nothing (then the section is empty). */
export function resolvePart(root: MimePart, path: readonly number[]): MimePart | undefined {
  let cur: MimePart = root;
  for (let i = 0; i < path.length; i++) {
    const n = path[i] ?? 0;
    // What the number counts in: the message itself first, then a multipart's parts, or the
    // encapsulated message of a message/rfc822 part (§6.4.5).
    let container: MimePart;
    if (i === 0) container = root;
    else if (cur.message) container = cur.message;
    else if (cur.children) container = cur;
    else return undefined;
    if (container.children) {
      const next = container.children[n - 1];
      if (!next) return undefined;
      cur = next;
    } else if (container.ct.type !== 'multipart' && n === 1) {
      cur = container; // a non-multipart message's part 1 is its body
    } else return undefined;
  }
  return cur;
}

interface Range {
  readonly start: number;
  readonly end: number;
}

/** The message entity whose HEADER/TEXT a section means: the root for [], else an rfc822 part's message. */
function messageFor(root: MimePart, path: readonly number[]): MimePart | undefined {
  if (path.length === 0) return root;
  return resolvePart(root, path)?.message;
}

export function sectionRange(root: MimePart, size: number, section: SectionSpec): Range | undefined {
  const text = section.text;
  if (text === undefined) {
    if (section.part.length === 0) return { start: 0, end: size };
    const p = resolvePart(root, section.part);
    return p && { start: p.bodyStart, end: p.end };
  }
  if (text === 'MIME') {
    if (section.part.length === 0) return undefined;
    const p = resolvePart(root, section.part);
    return p && { start: p.headerStart, end: p.bodyStart };
  }
  const m = messageFor(root, section.part);
  if (!m) return undefined;
  if (text === 'TEXT') return { start: m.bodyStart, end: m.end };
  return { start: m.headerStart, end: m.bodyStart };
}

function applyPartial(length: number, partial?: Partial): Range {
  if (!partial) return { start: 0, end: length };
  const start = Math.min(partial.start, length);
  return { start, end: Math.min(length, start + partial.length) };
}

async function collect(stream: AsyncIterable<Uint8Array>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  // The stream is a range of at most `max` bytes: read it to its end rather than break out of it.
  for await (const c of stream) {
    const b = Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    if (n < max) chunks.push(b);
    n += b.length;
  }
  return Buffer.concat(chunks).subarray(0, max);
}

/** RFC 3501 §6.4.5 HEADER.FIELDS / .NOT: the chosen field lines, as folded in the message, then a blank line. */
export function filterHeader(header: Buffer, names: readonly string[], not: boolean): Buffer {
  const wanted = new Set(names.map((n) => n.toLowerCase()));
  const out: Buffer[] = [];
  let keep = false;
  let pos = 0;
  while (pos < header.length) {
    const nl = header.indexOf(10, pos);
    const end = nl < 0 ? header.length : nl + 1;
    const line = header.subarray(pos, end);
    pos = end;
    if (line.length <= 2 && (line[0] === 10 || (line[0] === 13 && line[1] === 10))) break;
    if (line[0] !== 32 && line[0] !== 9) {
      const colon = line.indexOf(58);
      const name = colon > 0 ? line.subarray(0, colon).toString('latin1').trim().toLowerCase() : undefined;
      keep = name !== undefined && wanted.has(name) !== not;
    }
    if (keep) out.push(line[line.length - 1] === 10 ? line : Buffer.concat([line, Buffer.from('\r\n')]));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

export async function readSectionBytes(
  view: FolderView,
  uid: number,
  root: MimePart,
  size: number,
  section: SectionSpec,
  partial?: Partial,
): Promise<Buffer | SectionStream> {
  const range = sectionRange(root, size, section);
  if (!range || range.end <= range.start) {
    if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
      const r = applyPartial(2, partial);
      return Buffer.from('\r\n').subarray(r.start, r.end);
    }
    return Buffer.alloc(0);
  }
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT') {
    const len = Math.min(range.end - range.start, MAX_FIELDS_HEADER_BYTES);
    const header = await collect(await view.read(uid, { start: range.start, end: range.start + len }), len);
    const bytes = filterHeader(header, section.fields ?? [], section.text === 'HEADER.FIELDS.NOT');
    const r = applyPartial(bytes.length, partial);
    return bytes.subarray(r.start, r.end);
  }
  const r = applyPartial(range.end - range.start, partial);
  const start = range.start + r.start;
  const end = range.start + r.end;
  if (end <= start) return Buffer.alloc(0);
  const stream = await view.read(uid, { start, end });
  return Object.assign(stream, { byteLength: end - start });
}
