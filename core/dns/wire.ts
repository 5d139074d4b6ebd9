/**
 * DNS messages (RFC 1035 §4) for the lookups mail needs: A, AAAA, MX, TXT and PTR. Pure functions:
 * a query is encoded, a response parsed with every length and pointer checked (a response is
 * hostile input), and the answer for a question extracted with its CNAME chain followed inside the
 * answer section, as c-ares does for node's resolver.
 */

export const QTYPE = { A: 1, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28 } as const;
export type WireType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'PTR';
export const WIRE_TYPES: ReadonlySet<string> = new Set<WireType>(['A', 'AAAA', 'MX', 'TXT', 'PTR']);

const CLASS_IN = 1;
const TYPE_OPT = 41;
/** EDNS0 UDP payload size (RFC 6891), the DNS Flag Day 2020 value that avoids IP fragmentation. */
export const EDNS_UDP_SIZE = 1232;
const MAX_NAME = 255;
const MAX_LABEL = 63;
/** Compression pointers followed per name; more means a loop or an attack. */
const MAX_JUMPS = 64;
/** Records looked at per section; a 64 KB TCP answer cannot hold many more real ones. */
const MAX_RECORDS = 4096;

export class WireError extends Error {}

/** Labels of a query name (no trailing dot), or undefined when it cannot be sent (EBADNAME). */
export function nameLabels(name: string): Buffer[] | undefined {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (n === '') return [];
  const labels = n.split('.').map((l) => Buffer.from(l, 'utf8'));
  let total = 1;
  for (const l of labels) {
    if (l.length === 0 || l.length > MAX_LABEL) return undefined;
    total += l.length + 1;
  }
  return total > MAX_NAME ? undefined : labels;
}

/**
 * A standard query with RD set and, unless `edns` is false, an EDNS0 OPT record (the plain form is
 * for a server that answers FORMERR to EDNS, RFC 6891 §7); `labels` from nameLabels.
 */
export function encodeQuery(id: number, labels: readonly Buffer[], qtype: number, edns = true): Buffer {
  let qlen = 1;
  for (const l of labels) qlen += l.length + 1;
  const buf = Buffer.allocUnsafe(12 + qlen + 4 + (edns ? 11 : 0));
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(0x0100, 2); // RD
  buf.writeUInt16BE(1, 4); // QDCOUNT
  buf.writeUInt32BE(0, 6); // ANCOUNT, NSCOUNT
  buf.writeUInt16BE(edns ? 1 : 0, 10); // ARCOUNT: the OPT record
  let o = 12;
  for (const l of labels) {
    buf[o++] = l.length;
    o += l.copy(buf, o);
  }
  buf[o++] = 0;
  buf.writeUInt16BE(qtype, o);
  buf.writeUInt16BE(CLASS_IN, o + 2);
  o += 4;
  if (!edns) return buf;
  // OPT (RFC 6891 §6.1.2): root name, type 41, class = UDP payload size, TTL 0 (no DO bit), no data.
  buf[o] = 0;
  buf.writeUInt16BE(TYPE_OPT, o + 1);
  buf.writeUInt16BE(EDNS_UDP_SIZE, o + 3);
  buf.writeUInt32BE(0, o + 5);
  buf.writeUInt16BE(0, o + 9);
  return buf;
}

/** One byte of a label as text: printable ASCII as is, the rest escaped as c-ares does (\DDD). */
function labelText(buf: Buffer, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c === 0x2e || c === 0x5c) s += '\\' + String.fromCharCode(c);
    else if (c > 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\' + String(c).padStart(3, '0');
  }
  return s;
}

/** A (possibly compressed) name at `offset`; `next` is the offset after it in the record. */
export function readName(buf: Buffer, offset: number): { name: string; next: number } {
  const labels: string[] = [];
  let o = offset;
  let next = -1;
  let jumps = 0;
  let length = 1;
  for (;;) {
    if (o >= buf.length) throw new WireError('name runs past the message');
    const len = buf[o];
    if (len === 0) {
      if (next < 0) next = o + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (o + 1 >= buf.length) throw new WireError('truncated compression pointer');
      const target = ((len & 0x3f) << 8) | buf[o + 1];
      if (next < 0) next = o + 2;
      // Pointers only go back (RFC 1035 §4.1.4 "a prior occurrence"): no loops.
      if (target >= o || ++jumps > MAX_JUMPS) throw new WireError('bad compression pointer');
      o = target;
      continue;
    }
    if (len > MAX_LABEL) throw new WireError('bad label length');
    if (o + 1 + len > buf.length) throw new WireError('label runs past the message');
    length += len + 1;
    if (length > MAX_NAME) throw new WireError('name longer than 255 octets');
    labels.push(labelText(buf, o + 1, o + 1 + len));
    o += 1 + len;
  }
  return { name: labels.join('.'), next };
}

export interface ResourceRecord {
  name: string;
  type: number;
  ttl: number;
  /** Offset and length of RDATA within the message (names in it may point anywhere before). */
  rdata: number;
  rdlength: number;
}

export interface Response {
  id: number;
  truncated: boolean;
  rcode: number;
  question: { name: string; type: number; cls: number } | undefined;
  answers: ResourceRecord[];
}

export function parseResponse(buf: Buffer): Response {
  if (buf.length < 12) throw new WireError('shorter than a header');
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if ((flags & 0x8000) === 0) throw new WireError('not a response');
  const qd = buf.readUInt16BE(4);
  const an = buf.readUInt16BE(6);
  if (qd > 1 || an > MAX_RECORDS) throw new WireError('implausible section counts');
  let o = 12;
  let question: Response['question'];
  if (qd === 1) {
    const q = readName(buf, o);
    if (q.next + 4 > buf.length) throw new WireError('truncated question');
    question = { name: q.name, type: buf.readUInt16BE(q.next), cls: buf.readUInt16BE(q.next + 2) };
    o = q.next + 4;
  }
  const truncated = (flags & 0x0200) !== 0;
  const answers: ResourceRecord[] = [];
  for (let i = 0; i < an; i++) {
    if (truncated && o >= buf.length) break; // a truncated answer may end anywhere
    const r = readName(buf, o);
    if (r.next + 10 > buf.length) throw new WireError('truncated record');
    const type = buf.readUInt16BE(r.next);
    const cls = buf.readUInt16BE(r.next + 2);
    const ttl = buf.readUInt32BE(r.next + 4);
    const rdlength = buf.readUInt16BE(r.next + 8);
    const rdata = r.next + 10;
    if (rdata + rdlength > buf.length) throw new WireError('record data runs past the message');
    // A TTL with the top bit set is treated as 0 (RFC 2181 §8).
    if (cls === CLASS_IN) answers.push({ name: r.name, type, ttl: ttl > 0x7fffffff ? 0 : ttl, rdata, rdlength });
    o = rdata + rdlength;
  }
  return { id, truncated, rcode: flags & 0x000f, question, answers };
}

const lower = (s: string) => s.toLowerCase();

function ipv4(buf: Buffer, r: ResourceRecord): string {
  if (r.rdlength !== 4) throw new WireError('A record not 4 octets');
  const o = r.rdata;
  return `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`;
}

function ipv6(buf: Buffer, r: ResourceRecord): string {
  if (r.rdlength !== 16) throw new WireError('AAAA record not 16 octets');
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(r.rdata + i * 2));
  // RFC 5952 §4: the longest run (≥ 2) of zero groups becomes "::", the first such run on a tie.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (a: number[]) => a.map((g) => g.toString(16)).join(':');
  return best < 0 ? hex(groups) : `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function rdataName(buf: Buffer, r: ResourceRecord, at: number): string {
  const n = readName(buf, at);
  if (n.next > r.rdata + r.rdlength) throw new WireError('name runs past its record');
  return n.name;
}

function txt(buf: Buffer, r: ResourceRecord): string[] {
  const parts: string[] = [];
  const end = r.rdata + r.rdlength;
  for (let o = r.rdata; o < end; ) {
    const len = buf[o];
    if (o + 1 + len > end) throw new WireError('TXT string runs past its record');
    parts.push(buf.toString('utf8', o + 1, o + 1 + len));
    o += 1 + len;
  }
  return parts;
}

function mx(buf: Buffer, r: ResourceRecord): { exchange: string; priority: number } {
  if (r.rdlength < 3) throw new WireError('MX record too short');
  return { priority: buf.readUInt16BE(r.rdata), exchange: rdataName(buf, r, r.rdata + 2) };
}

/**
 * The answer to `qname`/`type`: its records' values and the lowest TTL on the way (CNAMEs
 * included), or undefined when the section holds none (NODATA). Node's shapes: addresses and
 * names as strings, TXT as string lists, MX as { exchange, priority }.
 */
export function answerFor(buf: Buffer, res: Response, qname: string, type: WireType): { values: unknown[]; ttl: number } | undefined {
  const want = QTYPE[type];
  const names = new Set([lower(qname.replace(/\.$/, ''))]);
  let ttl = Number.POSITIVE_INFINITY;
  // Follow CNAMEs in whatever order they come (bounded by the records present).
  for (let grew = true, rounds = 0; grew && rounds < 16; rounds++) {
    grew = false;
    for (const r of res.answers) {
      if (r.type !== QTYPE.CNAME || !names.has(lower(r.name))) continue;
      const target = lower(rdataName(buf, r, r.rdata));
      if (!names.has(target)) {
        names.add(target);
        ttl = Math.min(ttl, r.ttl);
        grew = true;
      }
    }
  }
  const values: unknown[] = [];
  for (const r of res.answers) {
    if (r.type !== want || !names.has(lower(r.name))) continue;
    ttl = Math.min(ttl, r.ttl);
    if (type === 'A') values.push(ipv4(buf, r));
    else if (type === 'AAAA') values.push(ipv6(buf, r));
    else if (type === 'TXT') values.push(txt(buf, r));
    else if (type === 'MX') values.push(mx(buf, r));
    else values.push(rdataName(buf, r, r.rdata));
  }
  return values.length ? { values, ttl } : undefined;
}
