/** RFC 3501 §7.4.2 BODY / BODYSTRUCTURE from a parsed MIME tree (grammar: §9 body, body-ext-*). */
import type { ImapValue } from '../types.ts';
import { envelopeOf } from './envelope.ts';
import { fieldValue, parseParamValue, stripComments } from './header.ts';
import type { MimePart } from './structure.ts';

function paramList(params: readonly (readonly [string, string])[]): ImapValue {
  const usable = params.filter(([n]) => n !== '');
  return usable.length === 0 ? null : usable.flatMap(([n, v]) => [n, v]);
}

function nstring(v: string | undefined): ImapValue {
  return v === undefined || v === '' ? null : v;
}

function disposition(part: MimePart): ImapValue {
  const raw = fieldValue(part.fields, 'content-disposition');
  if (raw === undefined) return null;
  const d = parseParamValue(raw);
  if (d.value === '') return null;
  return [d.value, paramList(d.params)];
}

/** body-fld-lang: NIL, one string, or a list (RFC 3282 Content-Language is a comma list). */
function language(part: MimePart): ImapValue {
  const raw = fieldValue(part.fields, 'content-language');
  if (raw === undefined) return null;
  const tags = stripComments(raw)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (tags.length === 0) return null;
  return tags.length === 1 ? (tags[0] ?? null) : tags;
}

function location(part: MimePart): ImapValue {
  const raw = fieldValue(part.fields, 'content-location');
  return raw === undefined ? null : nstring(raw.replace(/\s+/g, ''));
}

const EMPTY_TEXT: ImapValue = ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 0, 0];

export function bodyStructureOf(part: MimePart, extensible: boolean, depth = 0): ImapValue {
  const ct = part.ct;
  if (ct.type === 'multipart') {
    // A multipart without parts (no or broken boundary) still needs one body (§9 body-type-mpart: 1*body).
    const children = part.children && part.children.length > 0 && depth < 64 ? part.children.map((c) => bodyStructureOf(c, extensible, depth + 1)) : [EMPTY_TEXT];
    const out: ImapValue[] = [...children, ct.subtype];
    if (extensible) out.push(paramList(ct.params.filter(([n]) => n !== '')), disposition(part), language(part), location(part));
    return out;
  }
  const enc = fieldValue(part.fields, 'content-transfer-encoding');
  const out: ImapValue[] = [
    ct.type,
    ct.subtype,
    paramList(ct.params),
    nstring(fieldValue(part.fields, 'content-id')),
    nstring(fieldValue(part.fields, 'content-description')),
    enc === undefined || enc === '' ? '7bit' : stripComments(enc).trim().toLowerCase(),
    part.end - part.bodyStart,
  ];
  if (part.message && depth < 64) {
    // body-type-msg: envelope, body of the encapsulated message, then its lines.
    out.push(envelopeOf(part.message.fields), bodyStructureOf(part.message, extensible, depth + 1), part.lines);
  } else if (ct.type === 'message' && ct.subtype === 'rfc822') {
    // Not parsed (encoded, or nested too deep): the grammar still needs an envelope and a body.
    out.push(envelopeOf([]), EMPTY_TEXT, part.lines);
  } else if (ct.type === 'text') {
    out.push(part.lines);
  }
  if (extensible) out.push(nstring(fieldValue(part.fields, 'content-md5')), disposition(part), language(part), location(part));
  return out;
}
