import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ReplyFormatError, ReplyParser, parseEhlo, replyText, xtext } from './smtp-reply.ts';

const b = (s: string) => Buffer.from(s, 'utf8');

void test('reply parser: single and multi-line replies, in any chunking', () => {
  const text = '220 ready\r\n250-mx.example greets you\r\n250-PIPELINING\r\n250 SIZE 1000\r\n354 go ahead\r\n';
  for (let split = 0; split <= text.length; split++) {
    const p = new ReplyParser();
    const got = [...p.push(b(text.slice(0, split))), ...p.push(b(text.slice(split)))];
    assert.deepEqual(got.map((r) => r.code), [220, 250, 354], `split at ${split}`);
    assert.deepEqual(got[1].lines, ['250-mx.example greets you', '250-PIPELINING', '250 SIZE 1000']);
    assert.equal(p.pending, false);
  }
  const p = new ReplyParser();
  assert.deepEqual(p.push(b('250-a\r\n')), []);
  assert.equal(p.pending, true, 'a multi-line reply is held until its last line');
  assert.equal(replyText(p.push(b('250 b\r\n'))[0]), '250-a\n250 b');
});

void test('reply parser: bare LF ends a line, a bare code is a reply, UTF-8 text is kept', () => {
  const p = new ReplyParser();
  const got = p.push(b('250\n550 5.1.1 nö such user\n'));
  assert.deepEqual(got.map((r) => [r.code, r.lines]), [[250, ['250']], [550, ['550 5.1.1 nö such user']]]);
});

void test('reply parser: garbage, a code change inside a reply, too long a line or too many lines are errors', () => {
  assert.throws(() => new ReplyParser().push(b('HTTP/1.1 400 Bad Request\r\n')), ReplyFormatError);
  assert.throws(() => new ReplyParser().push(b('199 too low\r\n')), ReplyFormatError);
  assert.throws(() => new ReplyParser().push(b('250x\r\n')), ReplyFormatError);
  assert.throws(() => new ReplyParser().push(b('250-a\r\n550 b\r\n')), /code changed/);
  const limits = { maxLineLength: 100, maxLines: 5 };
  assert.throws(() => new ReplyParser(limits).push(b(`250 ${'x'.repeat(200)}\r\n`)), /too long/);
  // Without a line end, the held bytes are bounded too.
  const p = new ReplyParser(limits);
  assert.throws(() => {
    for (let i = 0; i < 10; i++) p.push(b('250 xxxxxxxxxxxxxxxxxxxx'));
  }, /too long/);
  assert.throws(() => new ReplyParser(limits).push(b('250-a\r\n'.repeat(6) + '250 z\r\n')), /too many lines/);
});

void test('EHLO keywords with parameters', () => {
  const ext = parseEhlo('250-mx.example\n250-PIPELINING\n250-SIZE 10240000\n250-AUTH PLAIN LOGIN\n250-auth=login\n250 8BITMIME');
  assert.deepEqual([...ext], [['PIPELINING', ''], ['SIZE', '10240000'], ['AUTH', 'login'], ['8BITMIME', '']]);
});

void test('xtext (RFC 3461 §4): +, =, space, controls and non-ASCII as +XX', () => {
  assert.equal(xtext('rfc822;bob@example.test'), 'rfc822;bob@example.test');
  assert.equal(xtext('a+b=c d'), 'a+2Bb+3Dc+20d');
  assert.equal(xtext('x\r\ny'), 'x+0D+0Ay');
  assert.equal(xtext('ä'), '+C3+A4');
});
