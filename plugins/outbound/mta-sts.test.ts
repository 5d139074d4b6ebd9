import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mxMatches, parseStsPolicy, parseStsRecord } from './mta-sts.ts';
import { orderMx } from './mx.ts';

void test('the _mta-sts TXT record: one v=STSv1 record with an id, else none', () => {
  assert.equal(parseStsRecord([['v=STSv1; id=20260101T000000;']]), '20260101T000000');
  assert.equal(parseStsRecord([['v=STSv1; ', 'id=abc123']]), 'abc123', 'split strings are joined');
  assert.equal(parseStsRecord([['v=spf1 -all'], ['v=STSv1; id=x1']]), 'x1', 'other TXT records are ignored');
  assert.equal(parseStsRecord([['v=STSv1; id=a'], ['v=STSv1; id=b']]), undefined, 'two records: no policy (RFC 8461 §3.1)');
  assert.equal(parseStsRecord([['v=STSv1;']]), undefined);
  assert.equal(parseStsRecord([['v=STSv1; id=bad-id!']]), undefined);
});

void test('policy text (RFC 8461 §3.2)', () => {
  assert.deepEqual(parseStsPolicy('version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n'),
    { mode: 'enforce', mx: ['mail.example.com', '*.example.net'], maxAge: 604800 });
  assert.deepEqual(parseStsPolicy('version: STSv1\nmode: none\nmax_age: 86400\n'), { mode: 'none', mx: [], maxAge: 86400 });
  assert.equal(parseStsPolicy('version: STSv1\nmode: enforce\nmax_age: 100\n'), undefined, 'enforce without mx');
  assert.equal(parseStsPolicy('version: STSv2\nmode: enforce\nmx: a\nmax_age: 100\n'), undefined);
  assert.equal(parseStsPolicy('version: STSv1\nmode: strict\nmx: a\nmax_age: 100\n'), undefined);
  assert.equal(parseStsPolicy('version: STSv1\nmode: testing\nmx: a\nmax_age: soon\n'), undefined);
  assert.equal(parseStsPolicy('version: STSv1\nmode: testing\nmx: a\nmax_age: 99999999999\n'), undefined);
  assert.equal(parseStsPolicy('version: STSv1\nmode: testing\nmx: a\nmax_age: 9999999999\n')?.maxAge, 31_557_600, 'capped at one year');
  assert.equal(parseStsPolicy('garbage'), undefined);
});

void test('MX patterns: exact, or a wildcard for exactly one label (RFC 8461 §4.1)', () => {
  assert.ok(mxMatches('mail.example.com', ['mail.example.com']));
  assert.ok(mxMatches('MAIL.Example.com.', ['mail.example.com']));
  assert.ok(mxMatches('mx1.example.net', ['*.example.net']));
  assert.ok(!mxMatches('a.b.example.net', ['*.example.net']));
  assert.ok(!mxMatches('example.net', ['*.example.net']));
  assert.ok(!mxMatches('evilexample.net', ['*.example.net']));
  assert.ok(!mxMatches('other.example.com', ['mail.example.com']));
});

void test('MX order: by preference, equal preferences shuffled', () => {
  const recs = [{ exchange: 'c', priority: 20 }, { exchange: 'a', priority: 10 }, { exchange: 'b', priority: 10 }];
  assert.deepEqual(orderMx(recs, () => 0.99).map((r) => r.exchange), ['a', 'b', 'c']);
  assert.deepEqual(orderMx(recs, () => 0).map((r) => r.exchange), ['b', 'a', 'c']);
});
