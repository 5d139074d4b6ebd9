import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DotStuffer } from './smtp-data.ts';

/** A whole message as sent, terminator included (what the client writes for one in memory). */
function stuffWhole(message: Buffer): Buffer {
  const s = new DotStuffer();
  return Buffer.concat([s.push(message), s.end()]);
}

const stuffed = (chunks: string[]) => {
  const s = new DotStuffer();
  return Buffer.concat([...chunks.map((c) => s.push(Buffer.from(c, 'latin1'))), s.end()]).toString('latin1');
};

void test('dot-stuffing (RFC 5321 §4.5.2) and the terminator', () => {
  assert.equal(stuffWhole(Buffer.from('a\r\n.b\r\n..c\r\n.\r\n')).toString(), 'a\r\n..b\r\n...c\r\n..\r\n.\r\n');
  assert.equal(stuffWhole(Buffer.from('.first\r\nend')).toString(), '..first\r\nend\r\n.\r\n', 'a last line without CRLF gets one');
  assert.equal(stuffWhole(Buffer.from('')).toString(), '.\r\n');
  assert.equal(stuffWhole(Buffer.from('x.\r\ny . z\r\n')).toString(), 'x.\r\ny . z\r\n.\r\n', 'only a dot at a line start');
});

void test('bare LF becomes CRLF; an existing CRLF is kept; a trailing CR is completed', () => {
  assert.equal(stuffWhole(Buffer.from('a\nb\r\n.c\n')).toString(), 'a\r\nb\r\n..c\r\n.\r\n');
  assert.equal(stuffWhole(Buffer.from('a\r')).toString(), 'a\r\n.\r\n');
});

void test('the same output for every way of splitting the input into chunks', () => {
  const text = '.a\r\nb\n.\r\n..\nc\r\n.';
  const whole = stuffed([text]);
  assert.equal(whole, '..a\r\nb\r\n..\r\n...\r\nc\r\n..\r\n.\r\n');
  for (let i = 0; i <= text.length; i++) {
    for (let j = i; j <= text.length; j++) {
      assert.equal(stuffed([text.slice(0, i), text.slice(i, j), text.slice(j)]), whole, `split at ${i},${j}`);
    }
  }
});

void test('a chunk without any change is passed through without copying', () => {
  const s = new DotStuffer();
  const chunk = Buffer.from('plain line\r\nanother\r\n');
  assert.equal(s.push(chunk), chunk);
});
