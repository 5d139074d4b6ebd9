/**
 * FETCH ENVELOPE / BODYSTRUCTURE / BODY[section] and SEARCH through the session and the message
 * layer, with imapflow and on the raw wire.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, ALICE_PASSWORD, flow, ImapWire, startImapServer, tagged } from './test-support.ts';

const MIXED = [
  'From: "Carol Q" <carol@elsewhere.test>',
  'To: alice@imap.test',
  'Subject: =?UTF-8?Q?caf=C3=A9?= report',
  'Date: Fri, 27 Nov 2026 10:00:00 +0000',
  'Message-ID: <mixed@x.test>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b1"',
  '',
  '--b1',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'the quarterly numbers',
  '--b1',
  'Content-Type: application/octet-stream; name="a.bin"',
  'Content-Transfer-Encoding: base64',
  '',
  'AAECAw==',
  '--b1--',
  '',
].join('\r\n');
const PLAIN = 'From: dave@elsewhere.test\r\nTo: alice@imap.test\r\nSubject: lunch\r\nDate: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\nsandwiches?\r\n';

describe('FETCH structure and SEARCH', () => {
  let t: Awaited<ReturnType<typeof startImapServer>>;
  before(async () => {
    t = await startImapServer();
  });
  after(async () => t.close());

  test('imapflow: envelope, bodystructure, a part, and searches', async () => {
    const c = await flow(t.port('imap'));
    try {
      await c.mailboxCreate('Reports');
      await c.append('Reports', MIXED, ['\\Seen']);
      await c.append('Reports', PLAIN);
      const lock = await c.getMailboxLock('Reports');
      try {
        const m = await c.fetchOne('1', { envelope: true, bodyStructure: true, bodyParts: ['1'] });
        assert.ok(m);
        assert.equal(m.envelope?.subject, 'café report');
        assert.deepEqual(m.envelope?.from, [{ name: 'Carol Q', address: 'carol@elsewhere.test' }]);
        assert.equal(m.envelope?.messageId, '<mixed@x.test>');
        assert.equal(m.bodyStructure?.type, 'multipart/mixed');
        assert.deepEqual(m.bodyStructure?.childNodes?.map((n) => n.type), ['text/plain', 'application/octet-stream']);
        assert.equal(m.bodyParts?.get('1')?.toString(), 'the quarterly numbers');
        assert.deepEqual(await c.search({ seen: false }), [2]);
        assert.deepEqual(await c.search({ subject: 'café' }), [1]);
        assert.deepEqual(await c.search({ body: 'sandwiches' }), [2]);
        assert.deepEqual(await c.search({ from: 'carol' }, { uid: true }), [1]);
        assert.deepEqual(await c.search({ or: [{ from: 'dave' }, { header: { 'message-id': 'mixed' } }] }), [1, 2]);
        assert.deepEqual(await c.search({ sentBefore: new Date('2026-11-28T00:00:00Z') }), [1]);
      } finally {
        lock.release();
      }
    } finally {
      await c.logout();
    }
  });

  test('raw: HEADER.FIELDS, TEXT, MIME, partial, RFC822.HEADER; SEARCH CHARSET and MODSEQ', async () => {
    const w = await ImapWire.connect(t.port('imaps'), { tls: true });
    try {
      await w.readResponse();
      await w.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`);
      await w.command('SELECT Reports');
      const f = await w.command('FETCH 2 (BODY.PEEK[HEADER.FIELDS (Subject)] BODY.PEEK[TEXT]<0.4>)');
      assert.equal(f[0], '* 2 FETCH (BODY[HEADER.FIELDS (Subject)] {18}\r\nSubject: lunch\r\n\r\n BODY[TEXT]<0> {4}\r\nsand)');
      const mime = await w.command('FETCH 1 BODY.PEEK[2.MIME]');
      assert.match(mime[0], /^\* 1 FETCH \(BODY\[2\.MIME\] \{\d+\}\r\nContent-Type: application\/octet-stream; name="a\.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n\)$/);
      const hdr = await w.command('FETCH 2 RFC822.HEADER');
      assert.ok(hdr[0].startsWith('* 2 FETCH (RFC822.HEADER {'), hdr[0]);
      assert.ok(hdr[0].endsWith('Date: Sat, 28 Nov 2026 12:00:00 +0000\r\n\r\n)'), hdr[0]);
      const sr = await w.command('SEARCH CHARSET UTF-8 SUBJECT {5+}\r\ncafé');
      assert.equal(sr[0], '* SEARCH 1');
      assert.match(tagged(sr), /^A\d+ OK SEARCH completed$/);
      assert.match(tagged(await w.command('SEARCH CHARSET KOI8-R ALL')), /^A\d+ NO \[BADCHARSET \(UTF-8 US-ASCII\)\] Unsupported charset$/);
      const ms = await w.command('UID SEARCH MODSEQ 1');
      assert.match(ms[0], /^\* SEARCH 1 2 \(MODSEQ \d+\)$/);
      const hm = await w.command('FETCH 1:2 (UID) (CHANGEDSINCE 1)');
      assert.ok(hm.slice(0, -1).every((l) => /MODSEQ \(\d+\)/.test(l)), hm.join('|'));
    } finally {
      await w.close();
    }
  });

  test('raw: header-only FETCH (ENVELOPE, HEADER.FIELDS) answers as the full structure does', async () => {
    const w = await ImapWire.connect(t.port('imaps'), { tls: true });
    try {
      await w.readResponse();
      await w.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`);
      await w.command('CREATE Heads');
      await w.command(`APPEND Heads {${Buffer.byteLength(MIXED)}+}\r\n${MIXED}`);
      await w.command(`APPEND Heads {${Buffer.byteLength(PLAIN)}+}\r\n${PLAIN}`);
      await w.command('SELECT Heads');
      const envelopeOf = (line: string): string => line.slice(line.indexOf('ENVELOPE ('), -1);
      // First the header-only items (read from the first bytes of each file), then the same with
      // BODYSTRUCTURE, which makes the server parse the whole message.
      const heads = await w.command('UID FETCH 1:* (FLAGS BODY.PEEK[HEADER.FIELDS (From Subject)] ENVELOPE)');
      const full = await w.command('UID FETCH 1:* (BODY.PEEK[HEADER.FIELDS (From Subject)] BODYSTRUCTURE ENVELOPE)');
      assert.equal(heads.length, 3);
      for (let i = 0; i < 2; i++) {
        const h = heads[i] ?? '';
        const f = full[i] ?? '';
        assert.match(h, /ENVELOPE \("/);
        assert.equal(envelopeOf(h), envelopeOf(f));
        const fields = (l: string): string => /BODY\[HEADER\.FIELDS \(From Subject\)\] \{\d+\}\r\n[^]*?\r\n\r\n/.exec(l)?.[0] ?? 'none';
        assert.equal(fields(h), fields(f));
        assert.notEqual(fields(h), 'none');
      }
      assert.ok((heads[1] ?? '').includes('"lunch"'), heads[1]);
    } finally {
      await w.close();
    }
  });
});
