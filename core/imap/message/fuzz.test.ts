// Hostile and random MIME never makes the message layer throw: every structure, ENVELOPE,
// BODYSTRUCTURE, section and search of generated junk completes with well-formed values.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../encoder.ts';
import type { SectionSpec } from '../types.ts';
import { bodyStructure, envelope, readSection, search, StructureCache } from './index.ts';
import { bytesOf, folderWith } from './test-support.ts';

const PIECES = [
  'From: ', 'To: a@b, "x" <y@z>, g: h@i;', 'Subject: =?utf-8?B?', '=?x?Q?a?=', 'Content-Type: multipart/mixed; boundary=', 'b', '"b"',
  'Content-Type: message/rfc822', 'Content-Type: text/plain; charset*0*=utf-8\'\'%E2; charset*1=x', 'Content-Transfer-Encoding: base64',
  'Content-Transfer-Encoding: quoted-printable', 'Content-Disposition: attachment; filename=', '--b', '--b--', '--', '\r\n', '\n', '\r', '\r\n\r\n',
  ' ', '\t', ':', ';', '(', ')', '<', '>', '"', '\\', '@', ',', '=', '=\r\n', '=4', 'ü', '\u0000', '\u00ff', 'Date: 31 Feb 99', 'Cc:', 'Bcc: ;;;',
];

function junk(seed: number): Buffer {
  let s = seed;
  const next = () => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 16777216;
  const out: string[] = [];
  const n = 20 + Math.floor(next() * 200);
  for (let i = 0; i < n; i++) out.push(PIECES[Math.floor(next() * PIECES.length)] ?? '');
  return Buffer.from(out.join(''), 'utf8');
}

test('random MIME-ish junk: structures, envelopes, body structures, sections and searches never throw', async (t) => {
  const messages = Array.from({ length: 60 }, (_, i) => junk(i + 1));
  const { view, uids } = await folderWith(t, messages);
  const cache = new StructureCache();
  const sections: SectionSpec[] = [
    { part: [] }, { part: [], text: 'HEADER' }, { part: [], text: 'TEXT' }, { part: [1] }, { part: [1], text: 'MIME' }, { part: [2, 1] },
    { part: [1], text: 'HEADER' }, { part: [1, 1], text: 'TEXT' }, { part: [], text: 'HEADER.FIELDS', fields: ['from', 'to'] },
    { part: [2], text: 'HEADER.FIELDS.NOT', fields: ['subject'] },
  ];
  for (const [i, uid] of uids.entries()) {
    const s = await cache.get(view, uid);
    assert.equal(s.size, messages[i]?.length);
    const env = envelope(s);
    assert.ok(Array.isArray(env) && env.length === 10);
    encode(env);
    encode(bodyStructure(s, true));
    encode(bodyStructure(s, false));
    for (const section of sections) {
      const bytes = await bytesOf(await readSection(view, uid, s, section, { start: 1, length: 50 }));
      assert.ok(bytes.length <= 50);
    }
  }
  const found = await search(view, { op: 'or', a: { op: 'text', where: 'text', value: 'ü' }, b: { op: 'header', name: 'subject', value: 'a' } }, {
    uids, seqOf: (u) => uids.indexOf(u) + 1, isRecent: () => false, cache,
  });
  assert.ok(found.every((u) => uids.includes(u)));
});
