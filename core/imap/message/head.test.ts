// The header-only path (head.ts) against the full MIME parse (structure.ts): the same ENVELOPE, the
// same end of header, for the bench corpus and for awkward headers; then the same through the cache
// over a real Maildir store, and kept in the on-disk summary for a restarted server.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { makeMessage } from '../../../bench/imap/corpus.ts';
import type { FolderView } from '../../store/mail-store.ts';
import { encode } from '../encoder.ts';
import { envelopeOf, envelopeTextOf } from './envelope.ts';
import { headerEnd } from '../../mime/header-end.ts';
import { headFromPrefix, nameFilter, parseHeaderFast } from './head.ts';
import { parseHeader } from './header.ts';
import { envelope, type MessageHead, readHeadSection, readSection, StructureCache } from './index.ts';
import { ENVELOPE_FIELDS, parseStructure } from './structure.ts';
import { EIGHT_BIT, FORWARD, MALFORMED, MISSING, NESTED, SIMPLE } from './test-messages.ts';
import { bytesOf, folderWith } from './test-support.ts';

const crlf = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');
const keep = (n: string): boolean => ENVELOPE_FIELDS.has(n) || n.startsWith('content-');

/** The full parser's ENVELOPE and end of header for `msg`, parsed from a stream of small chunks. */
async function fullOf(msg: Buffer): Promise<{ env: string; bodyStart: number }> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < msg.length; i += 4096) chunks.push(msg.subarray(i, i + 4096));
  const s = await parseStructure(Readable.from(chunks));
  return { env: encode(envelopeOf(s.root.fields)).toString('latin1'), bodyStart: s.root.bodyStart };
}

/** The header-only path as the cache runs it: a first read of `first` bytes, then up to 256 KiB. */
function headOf(msg: Buffer, first = 16 * 1024): { env: string; bodyStart: number } {
  let h = headFromPrefix(msg.subarray(0, first), Math.min(first, msg.length), msg.length);
  h ??= headFromPrefix(msg.subarray(0, 256 * 1024), Math.min(256 * 1024, msg.length), msg.length);
  assert.ok(h, 'head found within the second read');
  return { env: encode(envelopeOf(h.fields)).toString('latin1'), bodyStart: h.bodyStart };
}

const EDGE: Record<string, Buffer> = {
  simple: SIMPLE,
  nested: NESTED,
  forward: FORWARD,
  missing: MISSING,
  malformed: MALFORMED,
  eightBit: EIGHT_BIT,
  // Header far beyond the first read (many Received lines), the envelope fields at its end.
  bigHeader: crlf([
    ...Array.from({ length: 400 }, (_, i) => `Received: from relay${i}.example.test by mx.example.test with ESMTP id ${i}; Fri, 27 Nov 2026 10:00:00 +0000`),
    'From: Late <late@example.test>',
    'Subject: after 40 KB of trace',
    '',
    'body',
  ]),
  // The blank line straddles the first read's end (16 KiB).
  straddle: Buffer.concat([Buffer.from(`X-Pad: ${'p'.repeat(16 * 1024 - 12)}\r\nFrom: a@b.test\r\n`), Buffer.from('\r\nbody\r\n')]),
  noBlankLine: Buffer.from('From: only@header.test\r\nSubject: no body at all'),
  noBlankLineBig: Buffer.from(`From: only@header.test\r\nX-Long: ${'z'.repeat(40_000)}\r\nSubject: end`),
  emptyMessage: Buffer.alloc(0),
  blankFirst: Buffer.from('\r\nFrom: not@header.test\r\n'),
  bareLf: Buffer.from('From: A <a@lf.test>\nTo: b@lf.test,\n c@lf.test\nSubject: bare\n LF folded\n\nbody\n'),
  folded: crlf(['Subject: one', '\ttwo', '   three', 'From: "Folded', ' Name" <f@x.test>', 'To: =?UTF-8?B?w6lsw6g=?=', ' =?UTF-8?Q?_suite?= <e@x.test>', '', 'b']),
  duplicates: crlf(['Subject: first', 'Subject: second', 'From: one@x.test', 'from: two@x.test', 'Date: d1', 'DATE: d2', '', 'b']),
  groups: crlf(['From: a@x.test', 'To: Team: m1@x.test, "M 2" <m2@x.test>;, Empty:;, solo@x.test', 'Cc: undisclosed-recipients:;', '', 'b']),
  utf8Raw: crlf(['From: Zoë Ünïcode <zoe@пример.test>', 'Subject: 日本語の件名', '', 'тело']),
  latin1Raw: Buffer.concat([Buffer.from('From: Ren'), Buffer.from([0xe9]), Buffer.from(' <r@x.test>\r\nSubject: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\nb')]),
  realReplacement: Buffer.concat([Buffer.from('Subject: \uFFFD and '), Buffer.from([0xff]), Buffer.from('\r\nFrom: x@y.test\r\n\r\nb')]),
  oddNames: crlf(['Subject : spaced name', 'Fr om: bad@x.test', 'no colon here', ' continuation of nothing', ':empty name', 'From:x@y.test', 'To:', '', 'b']),
  crOnly: Buffer.from('From: a@x.test\r\r\nSubject: s\r\n\r\nb'),
  continuationAfterDrop: crlf(['X-Dropped: a', ' Subject: not a field', 'Subject: real', '', 'b']),
};

test('ENVELOPE and end of header from the head equal the full parse for every bench message', async () => {
  for (let i = 0; i < 1000; i++) {
    const msg = makeMessage(i);
    assert.deepEqual(headOf(msg), await fullOf(msg), `bench message ${i}`);
  }
});

test('ENVELOPE and end of header from the head equal the full parse for awkward headers', async () => {
  for (const [name, msg] of Object.entries(EDGE)) {
    assert.deepEqual(headOf(msg), await fullOf(msg), name);
    // A first read that ends anywhere (here: mid-line, mid-CRLF) gives the same answer.
    for (const first of [1, 7, 40, 41, 42, 100]) assert.deepEqual(headOf(msg, first), await fullOf(msg), `${name}, first read ${first}`);
  }
});

test('the fast header parser equals header.ts on every field it keeps', () => {
  for (const [name, msg] of Object.entries(EDGE)) {
    const end = headerEnd(msg, msg.length);
    const block = msg.subarray(0, end < 0 ? msg.length : end);
    assert.deepEqual(parseHeaderFast(block, keep), parseHeader(block, keep), name);
    assert.deepEqual(parseHeaderFast(block, () => true), parseHeader(block), `${name}, every field`);
    // With the initials of the kept names, other fields are skipped undecoded: the same result.
    const envelopeOnly = (n: string): boolean => ENVELOPE_FIELDS.has(n);
    const initials = new Set([...ENVELOPE_FIELDS].map((n) => n.charCodeAt(0)));
    assert.deepEqual(parseHeaderFast(block, envelopeOnly, initials), parseHeader(block, envelopeOnly), `${name}, skipped by initial`);
    assert.deepEqual(parseHeaderFast(block, envelopeOnly, nameFilter(ENVELOPE_FIELDS)), parseHeader(block, envelopeOnly), `${name}, skipped by shape`);
  }
  // Names in any case, with white space before the colon, unknown fields starting with a kept
  // initial, and a non-letter first byte all take the decoding path.
  const tricky = Buffer.from('SUBJECT : a\r\nSubjectX: no\r\nX-To: no\r\n\fTo: odd\r\nfROM: <x@y>\r\nReceived: r\r\n to: folded\r\nDate: d\r\n\r\n');
  const envelopeOnly = (n: string): boolean => ENVELOPE_FIELDS.has(n);
  const initials = new Set([...ENVELOPE_FIELDS].map((n) => n.charCodeAt(0)));
  assert.deepEqual(parseHeaderFast(tricky, envelopeOnly, initials), parseHeader(tricky, envelopeOnly));
  assert.deepEqual(parseHeaderFast(tricky, envelopeOnly, initials).map(([n]) => n), ['subject', 'to', 'from', 'date']);
  // Shapes (first letter, length): names of a kept shape that are not kept (Received / Reply-To),
  // white space or non-ASCII around or inside a name (JavaScript's trim removes U+00A0 and U+FEFF),
  // a Kelvin sign (lower-cases to "k"), Latin-1 and UTF-8 blocks.
  const filter = nameFilter(ENVELOPE_FIELDS);
  const names = ['Reply-To', 'Received', 'reply-tO', 'Subject\t', '\u00a0From', 'From\u00a0', '\ufeffDate', 'Fr\u00f6m', 'To\u00a0', 'Cc ', 'In-Reply-To', 'In-Reply-T0', 'Message-Id', 'Message-Ix', 'References', 'Bcc', 'B\u212Acc', 'Sender', 'Senders', 'Date', '1Date'];
  for (const enc of ['utf8', 'latin1'] as const) {
    const block = Buffer.from(`${names.map((n, i) => `${n}: v${i}\r\n`).join('')}\r\n`, enc);
    assert.deepEqual(parseHeaderFast(block, envelopeOnly, filter), parseHeader(block, envelopeOnly), enc);
  }
  const picked = parseHeaderFast(Buffer.from('Reply-To: a\r\nReceived: b\r\n\r\n'), envelopeOnly, filter);
  assert.deepEqual(picked, [['reply-to', 'a']]);
  assert.equal(picked[0]?.[0], 'reply-to');
});

test('the ENVELOPE wire text written directly equals the encoded ENVELOPE value', async () => {
  const all = [...Object.entries(EDGE), ...Array.from({ length: 500 }, (_, i) => [`bench ${i}`, makeMessage(i)] as const)];
  for (const [name, msg] of all) {
    const s = await parseStructure(Readable.from([msg]));
    assert.deepEqual(Buffer.from(envelopeTextOf(s.root.fields), 'utf8'), encode(envelopeOf(s.root.fields), 'ENVELOPE '), name);
  }
  // Quotes, backslashes, non-ASCII (a literal), an empty mailbox and a lone group.
  const odd = parseHeader(Buffer.from('From: "a \\"q\\" b" <x@y>\r\nTo: Grp:;\r\nCc: <@r:@y>\r\nSubject: caf\u00e9 \\ "x"\r\n\r\n'));
  assert.deepEqual(Buffer.from(envelopeTextOf(odd), 'utf8'), encode(envelopeOf(odd), 'ENVELOPE '));
});

test('headerEnd finds the blank line after LF or CRLF lines, and none in a header cut short', () => {
  assert.equal(headerEnd(Buffer.from('A: b\r\n\r\nx'), 9), 8);
  assert.equal(headerEnd(Buffer.from('A: b\n\nx'), 7), 6);
  assert.equal(headerEnd(Buffer.from('\nx'), 2), 1);
  assert.equal(headerEnd(Buffer.from('A: b\r\n\r'), 7), -1);
  assert.equal(headerEnd(Buffer.from('A: b\r\n\r\nx'), 7), -1, 'the blank line lies beyond the bytes read');
  assert.equal(headerEnd(Buffer.from('A: b\r\r\nB: c'), 11), -1);
});

test('headFromPrefix asks for more when the header goes on past the bytes read', () => {
  const msg = EDGE.bigHeader;
  assert.equal(headFromPrefix(msg, 16 * 1024, msg.length), undefined);
  const all = headFromPrefix(msg, msg.length, msg.length);
  assert.equal(all?.fields.find(([n]) => n === 'subject')?.[1], 'after 40 KB of trace');
});

/** A real view that counts its reads (whole-message reads and prefix reads). */
function counting(view: FolderView): { view: FolderView; reads: () => number; prefixReads: () => number } {
  let reads = 0;
  let prefixReads = 0;
  const wrapped = new Proxy(view, {
    get(target, prop) {
      if (prop === 'read') return (...a: Parameters<FolderView['read']>) => ((reads += 1), target.read(...a));
      if (prop === 'readPrefixes') {
        return (uids: readonly number[], length: number, each: (uid: number, bytes: Buffer | undefined) => void) => {
          prefixReads += uids.length;
          return target.readPrefixes?.(uids, length, each);
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { view: wrapped, reads: () => reads, prefixReads: () => prefixReads };
}

test('the cache serves heads from prefix reads, equal to the full structures, header sections included', async (t) => {
  const messages = [...Object.values(EDGE).filter((m) => m.length > 0), ...Array.from({ length: 300 }, (_, i) => makeMessage(i))];
  const { view, uids } = await folderWith(t, messages);
  const { view: counted, reads, prefixReads } = counting(view);
  const heads = new StructureCache();
  const got: MessageHead[] = [];
  for (const u of uids) got.push(await heads.head(counted, u)); // sequential, as FETCH 1:* asks
  assert.ok(prefixReads() >= uids.length, 'heads come from prefix reads');
  // Only the header bigger than the bytes the full parser keeps needs a whole read: none here.
  assert.equal(reads(), 0);
  const full = new StructureCache();
  for (const [i, u] of uids.entries()) {
    const s = await full.get(view, u);
    const h = got[i];
    assert.ok(h);
    assert.deepEqual(encode(envelope(h)), encode(envelope(s)), `uid ${u}`);
    assert.equal(h.bodyStart, s.root.bodyStart);
    assert.equal(h.size, s.size);
    for (const section of [
      { part: [], text: 'HEADER' as const },
      { part: [], text: 'HEADER.FIELDS' as const, fields: ['SUBJECT', 'FROM'] },
      { part: [], text: 'HEADER.FIELDS.NOT' as const, fields: ['RECEIVED'] },
    ]) {
      assert.deepEqual(await bytesOf(await readHeadSection(view, u, h, section)), await bytesOf(await readSection(view, u, s, section)), `uid ${u} ${section.text}`);
    }
  }
});

test('heads are kept in the summary file: a restarted cache reads no message for them', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-imap-heads-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const { view, uids } = await folderWith(t, [SIMPLE, EIGHT_BIT, ...Array.from({ length: 50 }, (_, i) => makeMessage(i))]);
  const first = new StructureCache({ dir });
  const before: Buffer[] = [];
  for (const u of uids) before.push(encode(envelope(await first.head(view, u))));
  await first.flush();

  const { view: counted, reads, prefixReads } = counting(view);
  const second = new StructureCache({ dir });
  for (const [i, u] of uids.entries()) {
    const h = await second.head(counted, u);
    assert.deepEqual(encode(envelope(h)), before[i]);
  }
  assert.equal(reads() + prefixReads(), 0, 'every head came from the summary file');
  // The full structure is still parsed on demand (and then recorded too).
  const s = await second.get(counted, uids[0] ?? 0);
  assert.equal(s.root.ct.type, 'text');
  assert.equal(reads(), 1);
});

test('a message expunged under a sequential reader fails only its own head', async (t) => {
  const { view, uids, store } = await folderWith(t, Array.from({ length: 10 }, (_, i) => makeMessage(i)));
  const cache = new StructureCache();
  await cache.head(view, uids[0] ?? 0);
  // Another session expunges message 5.
  const other = await store.open('alice@example.test', 'INBOX');
  await other.setFlags([uids[4] ?? 0], { mode: 'add', flags: ['\\Deleted'] });
  await other.expunge();
  await other.close();
  for (const [i, u] of uids.entries()) {
    if (i === 0) continue;
    if (i === 4) await assert.rejects(cache.head(view, u), (err: Error & { code?: string }) => err.code === 'EXPUNGEISSUE');
    else assert.ok((await cache.head(view, u)).fields.length > 0);
  }
});
