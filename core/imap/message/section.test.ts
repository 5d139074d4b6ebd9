// BODY[section]<partial> over a real MaildirStore; expected bytes are Dovecot 2.3's answers for the
// same messages (RFC 3501 §6.4.5 numbering: HEADER/TEXT/MIME of message/rfc822 parts, part 1 of a
// non-multipart message, HEADER.FIELDS(.NOT)).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SectionSpec } from '../types.ts';
import { readSection, StructureCache } from './index.ts';
import { FORWARD, largeMessage, SIMPLE } from './test-messages.ts';
import { bytesOf, folderWith } from './test-support.ts';

test('sections of a forwarded message: rfc822 HEADER/TEXT/MIME, nested parts, digest, missing parts', async (t) => {
  const { view, uids } = await folderWith(t, [FORWARD]);
  const uid = uids[0] ?? 0;
  const s = await new StructureCache().get(view, uid);
  const get = async (section: SectionSpec) => (await bytesOf(await readSection(view, uid, s, section))).toString();
  assert.equal(await get({ part: [2], text: 'HEADER' }), 'From: Inner Sender <inner@example.org>\r\nSubject: inner\r\nDate: Tue, 2 Mar 2021 11:12:13 +0100\r\nContent-Type: multipart/alternative; boundary=b2\r\n\r\n');
  assert.equal(await get({ part: [2, 1] }), 'inner text');
  assert.equal(await get({ part: [2], text: 'MIME' }), 'Content-Type: message/rfc822\r\n\r\n');
  assert.equal(await get({ part: [2], text: 'TEXT' }), '--b2\r\nContent-Type: text/plain\r\n\r\ninner text\r\n--b2\r\nContent-Type: text/html\r\n\r\n<b>inner</b>\r\n--b2--\r\n');
  assert.equal(await get({ part: [2, 2] }), '<b>inner</b>');
  assert.equal(await get({ part: [3, 1] }), 'Subject: digest item\r\n\r\nitem body');
  assert.equal(await get({ part: [3, 1, 1] }), 'item body');
  assert.equal(await get({ part: [2], text: 'HEADER.FIELDS', fields: ['subject', 'FROM'] }), 'From: Inner Sender <inner@example.org>\r\nSubject: inner\r\n\r\n');
  assert.equal(await get({ part: [2, 1], text: 'MIME' }), 'Content-Type: text/plain\r\n\r\n');
  assert.equal(await get({ part: [9] }), '');
  assert.equal(await get({ part: [1], text: 'HEADER' }), '');
  assert.equal(await get({ part: [] }), FORWARD.toString());
});

test('a non-multipart message: part 1 is its body, 1.MIME its header; partial ranges; HEADER.FIELDS.NOT keeps folding', async (t) => {
  const { view, uids } = await folderWith(t, [SIMPLE]);
  const uid = uids[0] ?? 0;
  const s = await new StructureCache().get(view, uid);
  const text = SIMPLE.toString();
  const header = text.slice(0, text.indexOf('\r\n\r\n') + 4);
  const body = text.slice(header.length);
  const get = async (section: SectionSpec, partial?: { start: number; length: number }) => (await bytesOf(await readSection(view, uid, s, section, partial))).toString();
  assert.equal(await get({ part: [1] }), body);
  assert.equal(await get({ part: [1], text: 'MIME' }), header);
  assert.equal(await get({ part: [], text: 'HEADER' }), header);
  assert.equal(
    await get({ part: [], text: 'HEADER.FIELDS.NOT', fields: ['To', 'Cc', 'Bcc', 'Date', 'Message-Id', 'From', 'Sender', 'Reply-To', 'In-Reply-To'] }),
    'Subject: =?UTF-8?Q?Caf=C3=A9?= IMAP4rev1\r\n  WG mtg summary\r\nMIME-Version: 1.0\r\nContent-Type: TEXT/PLAIN; CHARSET=US-ASCII\r\n\r\n',
  );
  assert.equal(await get({ part: [], text: 'TEXT' }, { start: 10, length: 20 }), ' do you think we can');
  assert.equal(await get({ part: [1] }, { start: 60, length: 100 }), 'd line.\r\n');
  assert.equal(await get({ part: [1] }, { start: 1000, length: 10 }), '');
  assert.equal(await get({ part: [], text: 'HEADER.FIELDS', fields: ['X-None'] }), '\r\n');
});

test('a large part streams with its length known up front', async (t) => {
  const { view, uids } = await folderWith(t, [{ stream: largeMessage(5 * 1024 * 1024) }]);
  const uid = uids[0] ?? 0;
  const s = await new StructureCache().get(view, uid);
  const r = await readSection(view, uid, s, { part: [2] }, { start: 66, length: 3 * 1024 * 1024 });
  assert.ok(!Buffer.isBuffer(r));
  assert.equal((r as unknown as { byteLength: number }).byteLength, 3 * 1024 * 1024);
  const bytes = await bytesOf(r);
  assert.equal(bytes.length, 3 * 1024 * 1024);
  assert.equal(bytes.subarray(0, 8).toString(), 'QUJDREVG');
});
