/**
 * Header-block parsing (RFC 5322 §2.2 fields, RFC 2045 §5.1 parameters, RFC 2231 continuations).
 * Values stay raw (unfolded, not decoded): ENVELOPE and BODYSTRUCTURE want them so (RFC 3501 §7.4.2).
 */

/** One header field: lower-case name and unfolded raw value. */
export type HeaderField = readonly [name: string, value: string];

/** Bytes → string: UTF-8 when valid (8-bit headers in the wild are UTF-8), else Latin-1 (lossless). */
export function bytesToText(buf: Buffer): string {
  const text = buf.toString('utf8');
  return text.includes('\uFFFD') && !buf.includes(Buffer.from('\uFFFD')) ? buf.toString('latin1') : text;
}

/** Splits a header block into fields; `keep` filters by lower-case name. Lines without a colon are skipped. */
export function parseHeader(block: Buffer, keep?: (name: string) => boolean): HeaderField[] {
  const out: HeaderField[] = [];
  const text = bytesToText(block);
  let name: string | undefined;
  let value = '';
  const flush = () => {
    if (name !== undefined && (keep === undefined || keep(name))) out.push([name, value.trim()]);
    name = undefined;
  };
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '') break;
    if (line[0] === ' ' || line[0] === '\t') {
      // RFC 5322 §2.2.3 unfolding: a continuation line joins the field, the CRLF removed.
      if (name !== undefined) value += line;
      continue;
    }
    flush();
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const n = line.slice(0, colon).trim().toLowerCase();
    if (n === '' || /[\s]/.test(n)) continue;
    name = n;
    value = line.slice(colon + 1);
  }
  flush();
  return out;
}

export function fieldValue(fields: readonly HeaderField[], name: string): string | undefined {
  for (const [n, v] of fields) if (n === name) return v;
  return undefined;
}

/** A parsed Content-Type / Content-Disposition value: lower-case token(s) and parameters in order. */
export interface ParsedValue {
  readonly value: string;
  readonly params: readonly (readonly [string, string])[];
}

/** Removes RFC 5322 comments (nested, with quoted-pairs) outside quoted strings. */
export function stripComments(s: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (s[i + 1] ?? '');
      i++;
      continue;
    }
    if (depth === 0 && c === '"') quoted = !quoted;
    else if (!quoted && c === '(') {
      depth++;
      continue;
    } else if (!quoted && c === ')' && depth > 0) {
      depth--;
      continue;
    }
    if (depth === 0) out += c;
  }
  return out;
}

/**
 * `type/subtype; a=b; c="d"` → value and params. RFC 2231 §3 continuations (`name*0`, `name*1*`) are
 * merged into one parameter; a name whose first segment is extended keeps its trailing `*` and its
 * charset'language'%XX value, as Dovecot does, so the value stays ASCII for the client to decode.
 */
export function parseParamValue(raw: string): ParsedValue {
  const s = stripComments(raw);
  const semi = indexOutsideQuotes(s, ';');
  const value = (semi < 0 ? s : s.slice(0, semi)).trim().toLowerCase();
  const params: [string, string][] = [];
  const segments = new Map<string, { parts: Map<number, { v: string; ext: boolean }> }>();
  let rest = semi < 0 ? '' : s.slice(semi + 1);
  for (let guard = 0; rest !== '' && guard < 1000; guard++) {
    const next = indexOutsideQuotes(rest, ';');
    const item = (next < 0 ? rest : rest.slice(0, next)).trim();
    rest = next < 0 ? '' : rest.slice(next + 1);
    const eq = item.indexOf('=');
    if (eq <= 0) continue;
    const name = item.slice(0, eq).trim().toLowerCase();
    let v = item.slice(eq + 1).trim();
    if (v.startsWith('"')) v = unquote(v);
    const m = /^(.+?)\*(\d+)(\*?)$/.exec(name);
    if (m) {
      const base = m[1] ?? name;
      let seg = segments.get(base);
      if (!seg) {
        seg = { parts: new Map() };
        segments.set(base, seg);
        params.push([base, '']); // placeholder keeps the order
      }
      if (seg.parts.size < 100) seg.parts.set(Number(m[2]), { v, ext: m[3] === '*' });
      continue;
    }
    if (!params.some(([n]) => n === name)) params.push([name, v]);
  }
  const merged: [string, string][] = [];
  for (const [name, v] of params) {
    const seg = segments.get(name);
    if (!seg || v !== '') {
      if (!seg) merged.push([name, v]);
      continue;
    }
    const keys = [...seg.parts.keys()].sort((a, b) => a - b);
    const first = seg.parts.get(keys[0] ?? 0);
    const extended = first?.ext === true;
    // Non-extended segments of an extended value are percent-encoded so the whole stays decodable.
    const joined = keys
      .map((k) => {
        const p = seg.parts.get(k);
        if (!p) return '';
        return extended && !p.ext ? encodeURIComponent(p.v) : p.v;
      })
      .join('');
    merged.push([extended ? `${name}*` : name, joined]);
  }
  return { value, params: merged };
}

function indexOutsideQuotes(s: string, ch: string): number {
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ch && !quoted) return i;
  }
  return -1;
}

/** Removes surrounding quotes and quoted-pair backslashes. */
export function unquote(v: string): string {
  let out = '';
  const end = v.endsWith('"') && v.length > 1 ? v.length - 1 : v.length;
  for (let i = 1; i < end; i++) {
    const c = v[i] ?? '';
    if (c === '\\' && i + 1 < end) {
      out += v[i + 1] ?? '';
      i++;
    } else out += c;
  }
  return out;
}
