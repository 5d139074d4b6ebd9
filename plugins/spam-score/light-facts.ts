/**
 * Message facts of a small, plainly built message without mailparser's streaming machinery
 * (a splitter, a decoder and a charset stream per part, a tick per chunk): the message is in
 * memory, so the header is parsed once and the body decoded in one call. The same building
 * blocks mailparser uses decide every value — mailsplit's MIME node for Content-Type, charset,
 * transfer encoding and disposition; mailparser's own header processing for the decoded header
 * values; libqp, libbase64's rules and libmime's charset decoder for the body — so the facts are
 * the ones readFacts' mailparser path gives (the tests compare both). Handled: a text/plain
 * message, and multipart trees (depth ≤ 4, ≤ 100 parts, exact delimiter lines) of text/plain
 * parts, HTML alternatives and attachments (skipped). Anything else (HTML to convert, embedded
 * messages, format=flowed, a header or delimiter line read differently by other parsers)
 * answers undefined: the caller then uses mailparser.
 */
import { Buffer } from 'node:buffer';
import { MimeNode } from '@zone-eu/mailsplit';
import libbase64 from 'libbase64';
import { decode as decodeCharset } from 'libmime/lib/charset.js';
import libqp from 'libqp';
import { MailParser } from 'mailparser';
import { headerEnd } from '../../core/mime/header-end.ts';

/** mailparser's header processing (lower-case name → decoded value(s)), as its 'headers' event gives it. */
export type ProcessHeaders = (lines: unknown) => Map<string, unknown>;

/** One line of a strict header section: a field name and a colon, or a continuation line. */
const FIELD_LINE = /^[\x21-\x39\x3b-\x7e]+:/;
const MAX_HEADER_BYTES = 64 * 1024;


/** Header lines every reader splits the same way: no bare CR, no mbox/HTTP preamble, no line without a name. */
function strictHeader(head: string): boolean {
  if (head.includes('\r') && /\r(?!\n)/.test(head)) return false;
  const lines = head.replace(/\r?\n$/, '').replace(/\r?\n$/, '').split(/\r?\n/);
  if (!lines.length || !FIELD_LINE.test(lines[0] ?? '')) return false;
  return lines.every((l) => FIELD_LINE.test(l) || /^[ \t]/.test(l));
}

/** libbase64's Decoder given the whole body as one chunk. */
function base64Body(body: Buffer): Buffer {
  let b64 = body.toString('latin1').replace(/[^a-zA-Z0-9+/=]/g, '');
  let padded = '';
  const lastPad = b64.lastIndexOf('=');
  if (lastPad >= 0) {
    padded = b64.slice(0, lastPad + 1);
    b64 = b64.slice(lastPad + 1);
  }
  let rest = '';
  if (b64.length < 4) {
    rest = b64;
    b64 = '';
  } else if (b64.length % 4) {
    rest = b64.slice(-(b64.length % 4));
    b64 = b64.slice(0, b64.length - rest.length);
  }
  const parts = [padded + b64, rest].filter((s) => s).map((s) => libbase64.decode(s));
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

const UTF8_NAMES = new Set(['ascii', 'usascii', 'utf8']);

/** The decoded text of the body, as mailparser's text node gets it. */
function bodyText(body: Buffer, encoding: string | false, charset: string | false): string {
  const bytes = encoding === 'base64' ? base64Body(body) : encoding === 'quoted-printable' ? libqp.decode(body) : body;
  const cs = charset || 'utf-8';
  const text = UTF8_NAMES.has(cs.toLowerCase().replace(/[^a-z0-9]+/g, '')) ? bytes.toString() : Buffer.from(decodeCharset(bytes, cs)).toString();
  // mailparser's /\r?\n/g → '\n', without rewriting every bare LF.
  return text.includes('\r') ? text.replaceAll('\r\n', '\n') : text;
}

export interface LightFacts {
  /** mailparser's processed root headers. */
  readonly headers: Map<string, unknown>;
  /** The text mailparser would emit ('' for an empty body). */
  readonly text: string;
}

/**
 * A header processor backed by one MailParser (its processing is pure; nothing is parsed through it).
 * processHeaders is not part of mailparser's documented API (the version is pinned): undefined when
 * it is not there, and the caller then parses with mailparser itself.
 */
export function headerProcessor(): ProcessHeaders | undefined {
  const parser = new MailParser() as unknown as { processHeaders?: ProcessHeaders };
  if (typeof parser.processHeaders !== 'function') return undefined;
  return (lines) => parser.processHeaders!(lines);
}

/** mailparser's text types: the rest is an attachment unless marked otherwise. */
const TEXT_TYPES = new Set(['text/plain', 'text/html', 'message/delivery-status']);
const MAX_DEPTH = 4;
const MAX_PARTS = 100;

/** Something mailparser would read differently from this walk: use mailparser. */
class NotSimple extends Error {}

interface Walk {
  readonly texts: string[];
  html: boolean;
  parts: number;
}

/** One MIME node's headers, parsed by mailsplit exactly as its splitter would. */
function nodeOf(head: Buffer, parent: MimeNode | false): MimeNode {
  if (!strictHeader(head.toString('latin1'))) throw new NotSimple();
  const node = new MimeNode(parent, {});
  node.addHeaderChunk(head);
  node.parseHeaders();
  return node;
}

/**
 * The parts of a multipart body: the bytes between delimiter lines (the caller drops the line
 * break in front of the next delimiter from the part's body: RFC 2046 §5.1.1). Only exact
 * `--boundary` / `--boundary--` lines are accepted; a line that merely starts like one (trailing
 * white space, stray CRs), or a missing closing delimiter, is left to mailparser.
 */
function splitParts(body: Buffer, boundary: Buffer): Array<{ bytes: Buffer; last: boolean }> {
  const delim = Buffer.concat([Buffer.from('--'), boundary]);
  const parts: Array<{ bytes: Buffer; last: boolean }> = [];
  let partStart = -1;
  let lineStart = 0;
  while (lineStart < body.length) {
    const lf = body.indexOf(0x0a, lineStart);
    const lineEnd = lf < 0 ? body.length : lf + 1;
    if (body[lineStart] === 0x2d && body.subarray(lineStart, lineStart + delim.length).equals(delim)) {
      let content = body.subarray(lineStart + delim.length, lineEnd);
      const closing = content[0] === 0x2d && content[1] === 0x2d;
      if (closing) content = content.subarray(2);
      const rest = content.toString('latin1');
      if (rest !== '\r\n' && rest !== '\n' && !(closing && rest === '')) throw new NotSimple();
      // mailsplit ignores a closing delimiter in the preamble; not followed here.
      if (closing && partStart < 0) throw new NotSimple();
      if (partStart >= 0) parts.push({ bytes: body.subarray(partStart, lineStart), last: closing });
      if (closing) return parts;
      partStart = lineEnd;
    }
    lineStart = lineEnd;
  }
  throw new NotSimple();
}

/** Walk one node's body the way mailparser's text collection does. */
function walk(node: MimeNode, body: Buffer, alternative: boolean, depth: number, w: Walk, root: boolean): void {
  if (++w.parts > MAX_PARTS || depth > MAX_DEPTH) throw new NotSimple();
  const ct = node.contentType || '';
  if (node.multipart) {
    const boundary = (node as unknown as { _boundary: Buffer | false })._boundary;
    if (!boundary || node.multipart === 'digest') throw new NotSimple();
    for (const { bytes: part, last } of splitParts(body, boundary)) {
      const start = headerEnd(part);
      if (start < 0) throw new NotSimple();
      const child = nodeOf(part.subarray(0, start), node);
      const own = (child as unknown as { _boundary: Buffer | false })._boundary;
      if (child.multipart && own && own.equals(boundary)) throw new NotSimple();
      // The line break in front of the delimiter belongs to it, not to the body (RFC 2046 §5.1.1);
      // mailsplit keeps it when it is the whole body and another part follows.
      let end = part.length;
      const whole = part.subarray(start).toString('latin1');
      if (last || (whole !== '\r\n' && whole !== '\n')) {
        if (end > start && part[end - 1] === 0x0a) end--;
        if (end > start && part[end - 1] === 0x0d) end--;
      }
      walk(child, part.subarray(start, end), alternative || ct === 'multipart/alternative', depth + 1, w, false);
    }
    return;
  }
  if (ct.startsWith('message/')) throw new NotSimple();
  let disposition = node.disposition || '';
  if (disposition && disposition !== 'attachment' && disposition !== 'inline') disposition = 'attachment';
  if (!disposition) disposition = TEXT_TYPES.has(ct) ? 'inline' : 'attachment';
  if (!TEXT_TYPES.has(ct) || disposition !== 'inline') return;
  if (ct === 'text/html') {
    // Outside an alternative (or alone) mailparser converts HTML to text: not done here.
    if (!alternative || root) throw new NotSimple();
    w.html = true;
    return;
  }
  if (node.flowed) throw new NotSimple();
  const text = bodyText(body, node.encoding, node.charset);
  if (text) w.texts.push(text);
}

/** Facts of a whole message in memory, or undefined when mailparser must read it. */
export function lightFacts(raw: Buffer, processHeaders: ProcessHeaders): LightFacts | undefined {
  const start = headerEnd(raw);
  if (start < 0 || start > MAX_HEADER_BYTES) return undefined;
  const w: Walk = { texts: [], html: false, parts: 0 };
  let root: MimeNode;
  try {
    root = nodeOf(raw.subarray(0, start), false);
    const headers = root.headers;
    // A root Content-Type with comments, encoded words or RFC 2231 parameters is left to mailparser.
    if (!headers || headers.get('Content-Type').some((l: string) => /[(*]|=\?/.test(l.slice(l.indexOf(':') + 1)))) return undefined;
    walk(root, raw.subarray(start), false, 0, w, true);
  } catch (err) {
    if (err instanceof NotSimple) return undefined;
    throw err;
  }
  // No text at all but HTML: mailparser's caller reads the HTML instead.
  if (!w.texts.length && w.html) return undefined;
  return { headers: processHeaders(root.headers ? root.headers.getList() : []), text: w.texts.join('\n') };
}
