/**
 * The header-only view of a message: what FLAGS, UID, ENVELOPE, RFC822.SIZE and BODY[HEADER…] of
 * the whole message need, built from the first bytes of the file without the MIME parse of the body
 * (structure.ts stays the source of BODYSTRUCTURE, BODY[n] and body SEARCH).
 *
 * The fields come out exactly as the full parser's (same header block, same filter, same text
 * decoding, same unfolding: RFC 5322 §2.2.3), so the ENVELOPE of either path is the same.
 */
import { isUtf8 } from 'node:buffer';
import { headerEnd } from '../../mime/header-end.ts';
import type { ImapValue } from '../types.ts';
import { type HeaderField, parseHeader } from './header.ts';
import { ENVELOPE_FIELDS, MAX_HEADER_BYTES, type MimePart } from './structure.ts';

/** The header-only summary of one stored message. */
export interface MessageHead {
  /** Bytes as stored (RFC822.SIZE). */
  readonly size: number;
  /** Offset of the body: the header block (with its blank line) is [0, bodyStart). */
  readonly bodyStart: number;
  /** The ENVELOPE header fields (ENVELOPE_FIELDS), raw and unfolded, in order. */
  readonly fields: readonly HeaderField[];
  /** Derived values, computed once per cached entry (shared with the full structure when derived from it). */
  readonly memo: { envelope?: ImapValue; envelopeBytes?: Buffer };
  /** `fields` as JSON, when the head came that way (the worker thread): the summary file takes it as it is. */
  readonly fieldsJson?: string;
}

/**
 * A head whose fields arrive as JSON (head-worker.ts) and are parsed only when asked for: a cold
 * FETCH ENVELOPE needs just the ENVELOPE bytes that come with it, and fewer objects are kept.
 */
export class JsonHead implements MessageHead {
  #fields: readonly HeaderField[] | undefined;
  constructor(
    readonly size: number,
    readonly bodyStart: number,
    readonly fieldsJson: string,
    readonly memo: MessageHead['memo'],
  ) {}
  get fields(): readonly HeaderField[] {
    return (this.#fields ??= JSON.parse(this.fieldsJson) as HeaderField[]);
  }
}

const LF = 10;
const CR = 13;
const SP = 32;
const HT = 9;
const COLON = 58;

/**
 * What a parse keeps, known up front so the other fields are skipped without decoding their names:
 * first letters, (first letter, length) shapes, and each kept name once (the fields share its string).
 */
export interface NameFilter {
  readonly initials: ReadonlySet<number>;
  readonly shapes: ReadonlySet<number>;
  readonly canonical: ReadonlyMap<string, string>;
}

/** The filter of a set of lower-case ASCII names starting with a letter. */
export function nameFilter(names: Iterable<string>): NameFilter {
  const list = [...names];
  return {
    initials: new Set(list.map((n) => n.charCodeAt(0))),
    shapes: new Set(list.map((n) => (n.charCodeAt(0) << 16) | n.length)),
    canonical: new Map(list.map((n) => [n, n])),
  };
}

/**
 * The fields `keep` selects from a header block, equal to `parseHeader(block, keep)` but without
 * decoding or splitting the fields it drops. Text decoding is decided over the whole block, as
 * header.ts does: UTF-8 when valid (or when the block really contains U+FFFD), else Latin-1.
 * `filter`, when given, holds the lower-case first letters (a set of them, or a NameFilter) of every
 * name `keep` accepts: a field starting with any other ASCII letter is skipped without decoding its name.
 */
export function parseHeaderFast(block: Buffer, keep: (name: string) => boolean, filter?: ReadonlySet<number> | NameFilter): HeaderField[] {
  const initials = filter === undefined || filter instanceof Set ? (filter as ReadonlySet<number> | undefined) : (filter as NameFilter).initials;
  const shaped = filter !== undefined && !(filter instanceof Set) ? (filter as NameFilter) : undefined;
  const enc: BufferEncoding = isUtf8(block) ? 'utf8' : 'latin1';
  // Invalid UTF-8 that also carries a real U+FFFD is decoded as UTF-8 with replacements by header.ts:
  // rare enough to leave to it.
  if (enc === 'latin1' && block.includes(REPLACEMENT)) return parseHeader(block, keep);
  const out: HeaderField[] = [];
  const len = block.length;
  let name: string | undefined;
  let value = '';
  let pos = 0;
  for (;;) {
    const nl = block.indexOf(LF, pos);
    const stop = nl < 0 ? len : nl;
    // One trailing CR belongs to the line end (header.ts strips exactly one).
    const end = stop > pos && block[stop - 1] === CR ? stop - 1 : stop;
    if (end === pos) break; // the empty line ends the header
    const first = block[pos];
    if (first === SP || first === HT) {
      // RFC 5322 §2.2.3 unfolding: the continuation joins the field, its CRLF removed.
      if (name !== undefined) value += block.toString(enc, pos, end);
    } else {
      if (name !== undefined) out.push([name, value.trim()]);
      name = undefined;
      const letter = first | 0x20; // ASCII lower case
      const skip = initials !== undefined && letter >= 0x61 && letter <= 0x7a && !initials.has(letter);
      let colon = skip ? -1 : block.indexOf(COLON, pos);
      // A name from an ASCII letter to a visible ASCII byte before its colon is nothing to trim: a
      // (letter, length) no kept name has is dropped undecoded (non-ASCII bytes in it match no kept name either).
      if (shaped && colon > pos && colon < end && letter >= 0x61 && letter <= 0x7a) {
        const last = block[colon - 1] ?? 0;
        if (last > SP && last < 0x7f && !shaped.shapes.has((letter << 16) | (colon - pos))) colon = -1;
      }
      if (colon > pos && colon < end) {
        const n = block.toString(enc, pos, colon).trim().toLowerCase();
        if (n !== '' && !/\s/.test(n) && keep(n)) {
          name = shaped?.canonical.get(n) ?? n;
          value = block.toString(enc, colon + 1, end);
        }
      }
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (name !== undefined) out.push([name, value.trim()]);
  return out;
}

const REPLACEMENT = Buffer.from('\uFFFD');
const keepEnvelope = (n: string): boolean => ENVELOPE_FIELDS.has(n);
const ENVELOPE_FILTER = nameFilter(ENVELOPE_FIELDS);

/**
 * The head of a message from its first bytes: `buf[0, length)` is the start of the file, `size` its
 * whole size. Undefined when the header does not end within those bytes and the file goes on (the
 * caller reads more, or parses the whole message).
 */
export function headFromPrefix(buf: Buffer, length: number, size: number): MessageHead | undefined {
  let bodyStart = headerEnd(buf, length);
  if (bodyStart < 0) {
    if (length < size) return undefined;
    bodyStart = size; // no blank line: all header, empty body (as structure.ts)
  }
  // The full parser keeps at most MAX_HEADER_BYTES of header for its fields: the same block here.
  const block = buf.subarray(0, Math.min(bodyStart, MAX_HEADER_BYTES, length));
  return { size, bodyStart, fields: parseHeaderFast(block, keepEnvelope, ENVELOPE_FILTER), memo: {} };
}

/** The head carried by a fully parsed structure (sharing its memo, so the ENVELOPE is built once). */
export function headOfStructure(s: { readonly size: number; readonly root: MimePart; readonly memo: MessageHead['memo'] }): MessageHead {
  return { size: s.size, bodyStart: s.root.bodyStart, fields: s.root.fields.filter(([n]) => ENVELOPE_FIELDS.has(n)), memo: s.memo };
}
