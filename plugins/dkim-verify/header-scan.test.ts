/**
 * The unsigned-message shortcut must give dmarc and arc exactly what mailauth gives them: for each
 * message below, unsignedOutcome (header section only) is compared with verifyDkim (mailauth's
 * full pass), fed whole and in small chunks.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { unsignedOutcome, verifyDkim } from './verify.ts';
import { readHeaderBytes } from './header-scan.ts';

const noDns = (name: string) => Promise.reject(Object.assign(new Error(`no DNS in this test (${name})`), { code: 'ESERVFAIL' }));

/** A stream of the message in `size`-byte chunks (0: one Buffer). */
function streamOf(raw: Buffer, size = 0): Readable {
  if (!size) return Readable.from([raw], { objectMode: false });
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) parts.push(raw.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

const body = 'Hello.\r\n\r\nSecond paragraph.\r\n';
const unsigned: Record<string, Buffer> = {
  plain: Buffer.from(`From: Alice <alice@example.org>\r\nTo: bob@example.net\r\nSubject: hi\r\n\r\n${body}`),
  'bare LF': Buffer.from('From: alice@example.org\nSubject: lf\n\nbody\nmore\n'),
  'LF CR LF end': Buffer.from('From: alice@example.org\n\r\nbody\r\n'),
  'folded From with two addresses': Buffer.from(`From: "Alice A." <alice@a.example>,\r\n\t bob@b.example\r\nSubject: x\r\n\r\n${body}`),
  'two From fields': Buffer.from(`From: a@one.example\r\nFrom: b@two.example\r\n\r\n${body}`),
  'group syntax': Buffer.from(`From: Team: a@g.example, b@g.example;\r\n\r\n${body}`),
  'no From': Buffer.from(`Subject: none\r\n\r\n${body}`),
  'empty From': Buffer.from(`From:\r\n\r\n${body}`),
  'name case and spaces': Buffer.from(`fROM  : carol@case.example\r\n\r\n${body}`),
  'no empty line': Buffer.from('From: dave@nobody.example\r\nSubject: header only\r\n'),
  'starts with a blank line': Buffer.from(`\r\nFrom: e@blank.example\r\n\r\n${body}`),
  'line starting with a colon': Buffer.from(`: odd\r\nFrom: f@colon.example\r\n\r\n${body}`),
  'latin-1 and utf-8 display names': Buffer.concat([
    Buffer.from('From: '), Buffer.from([0xc9, 0x6d, 0x69, 0x6c, 0x65]), Buffer.from(' <emile@latin.example>\r\nCc: '),
    Buffer.from('Zoë <zoe@utf8.example>\r\nFrom: Zoë <zoe@utf8.example>\r\n\r\n'), Buffer.from(body),
  ]),
  'DKIM-Signature in the body only': Buffer.from('From: g@body.example\r\n\r\nDKIM-Signature: v=1; d=x.example; s=a; b=AA==\r\n'),
  'long body': Buffer.from(`From: h@long.example\r\n\r\n${'x'.repeat(70) + '\r\n'}`.repeat(2000)),
};

describe('dkim-verify unsigned shortcut', () => {
  for (const [name, raw] of Object.entries(unsigned)) {
    test(`same result as mailauth: ${name}`, async () => {
      const full = await verifyDkim(streamOf(raw), { resolver: noDns, sender: 'x@y.example', minBitLength: 1024 });
      for (const size of [0, 1, 2, 3, 7, 64]) {
        const quick = await unsignedOutcome(streamOf(raw, size));
        assert.ok(quick, `shortcut taken (chunks of ${size})`);
        assert.deepEqual(quick, full, `chunks of ${size}`);
        assert.deepEqual(quick.arcData, full.arcData);
      }
    });
  }

  const needsMailauth: Record<string, string> = {
    'DKIM-Signature': `From: a@x.example\r\nDKIM-Signature: v=1; a=rsa-sha256; d=x.example; s=a; h=from; bh=AA==; b=AA==\r\n\r\n${body}`,
    'folded, odd case': `dkim-signature : v=1; a=rsa-sha256;\r\n d=x.example; s=a; h=from; bh=AA==; b=AA==\r\nFrom: a@x.example\r\n\r\n${body}`,
    'ARC-Seal': `ARC-Seal: i=1; a=rsa-sha256; cv=none; d=x.example; s=a; b=AA==\r\nFrom: a@x.example\r\n\r\n${body}`,
    'ARC-Authentication-Results only': `ARC-Authentication-Results: i=1; x.example; spf=pass\r\nFrom: a@x.example\r\n\r\n${body}`,
    'ARC-Message-Signature': `ARC-Message-Signature: i=1; a=rsa-sha256; d=x.example; s=a; h=from; bh=AA==; b=AA==\r\nFrom: a@x.example\r\n\r\n${body}`,
  };
  for (const [name, raw] of Object.entries(needsMailauth)) {
    test(`a message with ${name} goes to mailauth`, async () => {
      for (const size of [0, 5]) assert.equal(await unsignedOutcome(streamOf(Buffer.from(raw), size)), undefined);
    });
  }

  test('a header section over the limit goes to mailauth', async () => {
    const raw = Buffer.from(`From: a@x.example\r\nX-Big: ${'y'.repeat(300 * 1024)}\r\n\r\n${body}`);
    assert.equal(await unsignedOutcome(streamOf(raw)), undefined);
    assert.equal(await unsignedOutcome(streamOf(raw, 4096)), undefined);
  });

  test('an in-memory message is not copied, and the stream is closed', async () => {
    const raw = Buffer.from(`From: a@x.example\r\n\r\n${body}`);
    const s = streamOf(raw);
    const head = await readHeaderBytes(s, 1024);
    assert.ok(head);
    assert.equal(head.buffer, raw.buffer);
    assert.equal(head.toString(), 'From: a@x.example\r\n\r\n');
    assert.ok(s.destroyed);
  });
});
