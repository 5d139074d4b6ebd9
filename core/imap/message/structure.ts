/**
 * Streaming MIME structure parser (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1 message/rfc822).
 * Reads the stored bytes once, chunk by chunk, and keeps only what FETCH and SEARCH need: the
 * selected header fields, content types, and byte offsets / line counts of every part. A 50 MB
 * message costs a few kilobytes. Malformed input degrades (missing boundaries end at EOF, a
 * header without a blank line is all header), it never throws.
 */
import { type HeaderField, fieldValue, parseHeader, parseParamValue } from './header.ts';

/** Header fields kept for a message header (ENVELOPE, RFC 3501 §7.4.2) besides every Content-*. */
export const ENVELOPE_FIELDS: ReadonlySet<string> = new Set([
  'date', 'subject', 'from', 'sender', 'reply-to', 'to', 'cc', 'bcc', 'in-reply-to', 'message-id',
]);

export interface ContentType {
  readonly type: string;
  readonly subtype: string;
  readonly params: readonly (readonly [string, string])[];
}

/** One MIME entity. Offsets are absolute in the stored message; `end` is exclusive. */
export interface MimePart {
  readonly headerStart: number;
  readonly bodyStart: number;
  readonly end: number;
  /** Lines of the body (a last line without a line end counts). */
  readonly lines: number;
  /** Kept header fields (see ENVELOPE_FIELDS), raw and unfolded. */
  readonly fields: readonly HeaderField[];
  readonly ct: ContentType;
  /** Multipart: the body parts in order. */
  readonly children?: readonly MimePart[];
  /** message/rfc822: the encapsulated message, its header starting at this part's bodyStart. */
  readonly message?: MimePart;
}

/** Nesting beyond this is served as an opaque leaf (bounded recursion everywhere downstream). */
export const MAX_DEPTH = 32;
/** Parts beyond this many are not split further (memory bound for hostile messages). */
export const MAX_PARTS = 2000;
/** Header bytes parsed per entity; the rest is still counted in offsets and served by BODY[HEADER]. */
export const MAX_HEADER_BYTES = 256 * 1024;
const HEAD = 256;

interface Builder {
  headerStart: number;
  bodyStart: number;
  bodyLine: number;
  end: number;
  lines: number;
  header: Buffer[];
  headerLen: number;
  isMessage: boolean;
  depth: number;
  digestParent: boolean;
  fields: HeaderField[];
  ct: ContentType;
  boundary?: Buffer;
  children?: Builder[];
  message?: Builder;
}

export const DEFAULT_CT: ContentType = { type: 'text', subtype: 'plain', params: [['charset', 'us-ascii']] };
const DIGEST_CT: ContentType = { type: 'message', subtype: 'rfc822', params: [] };

/** RFC 2045 §5.2: no (or an unparsable) Content-Type means text/plain; charset=us-ascii; in a digest, message/rfc822 (RFC 2046 §5.1.5). */
export function contentTypeOf(fields: readonly HeaderField[], digestParent: boolean): ContentType {
  const raw = fieldValue(fields, 'content-type');
  if (raw === undefined) return digestParent ? DIGEST_CT : DEFAULT_CT;
  const parsed = parseParamValue(raw);
  const m = /^([!#$%&'*+\-.^_`|~0-9a-z]+)\/([!#$%&'*+\-.^_`|~0-9a-z]+)$/.exec(parsed.value);
  if (!m) return DEFAULT_CT;
  const type = m[1] ?? 'text';
  // RFC 2045 §5.2 / RFC 2046 §4.1.2: text without a charset is us-ascii; say so, as Dovecot does.
  const params = type === 'text' && !parsed.params.some(([n]) => n === 'charset') ? [...parsed.params, ['charset', 'us-ascii'] as const] : parsed.params;
  return { type, subtype: m[2] ?? 'plain', params };
}

export class StructureParser {
  private offset = 0;
  private lineStart = 0;
  private lineLen = 0;
  private lineIndex = 0;
  private lfCount = 0;
  private prevTermLen = 0;
  private readonly head = Buffer.alloc(HEAD);
  private headLen = 0;
  private parts = 1;
  private readonly root: Builder;
  private readonly stack: Builder[];

  constructor() {
    this.root = this.builder(0, true, 0, false);
    this.stack = [this.root];
  }

  private builder(headerStart: number, isMessage: boolean, depth: number, digestParent: boolean): Builder {
    return { headerStart, bodyStart: -1, bodyLine: 0, end: -1, lines: 0, header: [], headerLen: 0, isMessage, depth, digestParent, fields: [], ct: DEFAULT_CT };
  }

  private top(): Builder {
    return this.stack[this.stack.length - 1] ?? this.root;
  }

  write(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(10, pos);
      const segEnd = nl < 0 ? chunk.length : nl + 1;
      const seg = chunk.subarray(pos, segEnd);
      if (this.headLen < HEAD) this.headLen += seg.copy(this.head, this.headLen, 0, Math.min(seg.length, HEAD - this.headLen));
      const top = this.top();
      if (top.bodyStart < 0 && top.headerLen < MAX_HEADER_BYTES) {
        const take = seg.subarray(0, MAX_HEADER_BYTES - top.headerLen);
        top.header.push(Buffer.from(take)); // copy: the chunk may be reused by the stream
        top.headerLen += take.length;
      }
      this.lineLen += seg.length;
      this.offset += seg.length;
      if (nl >= 0) this.endLine();
      pos = segEnd;
    }
  }

  /** Finishes the parse at end of input. */
  end(): { size: number; root: MimePart } {
    if (this.lineLen > 0) this.endLine();
    const size = this.offset;
    while (this.stack.length > 0) {
      const b = this.stack.pop();
      if (b) this.finish(b, size, true);
    }
    return { size, root: freeze(this.root) };
  }

  private endLine(): void {
    const start = this.lineStart;
    const lineEnd = start + this.lineLen;
    const full = this.lineLen <= HEAD;
    const line = this.head.subarray(0, Math.min(this.headLen, HEAD));
    let termLen = 0;
    if (full && line[line.length - 1] === 10) termLen = line[line.length - 2] === 13 ? 2 : 1;
    const content = full ? line.subarray(0, line.length - termLen) : undefined;

    let handled = false;
    if (content && content.length >= 3 && content[0] === 45 && content[1] === 45) {
      for (let k = this.stack.length - 1; k >= 0; k--) {
        const b = this.stack[k];
        if (!b?.boundary) continue;
        const kind = delimiterKind(content, b.boundary);
        if (kind === undefined) continue;
        this.delimiter(k, start, lineEnd, kind === 'close');
        handled = true;
        break;
      }
    }
    if (!handled) {
      const top = this.top();
      if (top.bodyStart < 0 && content?.length === 0) this.finishHeader(top, lineEnd, this.lineIndex + 1);
    }
    this.lineIndex++;
    if (termLen > 0) this.lfCount++;
    this.prevTermLen = termLen;
    this.lineStart = lineEnd;
    this.lineLen = 0;
    this.headLen = 0;
  }

  private finishHeader(b: Builder, bodyStart: number, bodyLine: number): void {
    b.bodyStart = bodyStart;
    b.bodyLine = bodyLine;
    const block = Buffer.concat(b.header);
    b.header = [];
    b.fields = parseHeader(block, (n) => n.startsWith('content-') || (b.isMessage && ENVELOPE_FIELDS.has(n)));
    b.ct = contentTypeOf(b.fields, b.digestParent);
    if (b.depth >= MAX_DEPTH || this.parts >= MAX_PARTS) return;
    const enc = (fieldValue(b.fields, 'content-transfer-encoding') ?? '7bit').toLowerCase();
    const identity = enc === '7bit' || enc === '8bit' || enc === 'binary';
    if (b.ct.type === 'multipart') {
      const boundary = b.ct.params.find(([n]) => n === 'boundary')?.[1];
      if (boundary && boundary.length <= 200 && identity) {
        b.boundary = Buffer.from(boundary, 'latin1');
        b.children = [];
      }
    } else if (b.ct.type === 'message' && (b.ct.subtype === 'rfc822' || b.ct.subtype === 'global') && identity) {
      // RFC 3501 §7.4.2: a message/rfc822 part carries the ENVELOPE and BODYSTRUCTURE of what it holds.
      const inner = this.builder(bodyStart, true, b.depth + 1, false);
      b.message = inner;
      this.parts++;
      this.stack.push(inner);
    }
  }

  private delimiter(k: number, lineStart: number, lineEnd: number, close: boolean): void {
    // RFC 2046 §5.1.1: the line end before a delimiter belongs to the delimiter.
    const end = lineStart - this.prevTermLen;
    while (this.stack.length - 1 > k) {
      const b = this.stack.pop();
      if (b) this.finish(b, end, false);
    }
    const m = this.stack[k];
    if (!m) return;
    if (close) {
      delete m.boundary; // the rest is epilogue
      return;
    }
    if (this.parts >= MAX_PARTS) return;
    const child = this.builder(lineEnd, false, m.depth + 1, m.ct.subtype === 'digest');
    (m.children ??= []).push(child);
    this.parts++;
    this.stack.push(child);
  }

  private finish(b: Builder, end: number, eof: boolean): void {
    if (b.bodyStart < 0) {
      // No blank line: all header, empty body.
      const stop = Math.max(b.headerStart, end);
      this.finishHeaderOnly(b, stop);
    }
    b.end = Math.max(b.bodyStart, end);
    // Lines = line ends inside the body, as Dovecot counts them. At a delimiter the LF before it is
    // not the body's; at EOF a last line without LF adds none.
    if (b.end === b.bodyStart) b.lines = 0;
    else if (eof) b.lines = Math.max(0, this.lfCount - b.bodyLine);
    else b.lines = Math.max(0, this.lineIndex - b.bodyLine - 1);
  }

  private finishHeaderOnly(b: Builder, stop: number): void {
    b.bodyStart = stop;
    b.bodyLine = this.lineIndex;
    const block = Buffer.concat(b.header);
    b.header = [];
    b.fields = parseHeader(block, (n) => n.startsWith('content-') || (b.isMessage && ENVELOPE_FIELDS.has(n)));
    b.ct = contentTypeOf(b.fields, b.digestParent);
  }
}

/** `--boundary` (delimiter) or `--boundary--` (close), with optional trailing whitespace. */
function delimiterKind(content: Buffer, boundary: Buffer): 'open' | 'close' | undefined {
  if (content.length < 2 + boundary.length) return undefined;
  if (content.compare(boundary, 0, boundary.length, 2, 2 + boundary.length) !== 0) return undefined;
  let i = 2 + boundary.length;
  let kind: 'open' | 'close' = 'open';
  if (content[i] === 45 && content[i + 1] === 45) {
    kind = 'close';
    i += 2;
  }
  for (; i < content.length; i++) if (content[i] !== 32 && content[i] !== 9) return undefined;
  return kind;
}

function freeze(b: Builder): MimePart {
  const part: { -readonly [K in keyof MimePart]: MimePart[K] } = {
    headerStart: b.headerStart,
    bodyStart: b.bodyStart,
    end: b.end,
    lines: b.lines,
    fields: b.fields,
    ct: b.ct,
  };
  if (b.children) part.children = b.children.map(freeze);
  if (b.message) part.message = freeze(b.message);
  return part;
}

/** Parses a whole stream (bounded memory). */
export async function parseStructure(stream: AsyncIterable<Uint8Array | string>): Promise<{ size: number; root: MimePart }> {
  const parser = new StructureParser();
  for await (const chunk of stream) parser.write(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return parser.end();
}
