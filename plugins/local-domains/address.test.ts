import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalAddress, normalizeDomain, normalizeLocal, parseAddress, splitTag, unicodeDomain } from './address.ts';

void test('normalizeDomain: case, trailing dot, IDNA, literals, junk', () => {
  assert.equal(normalizeDomain('Example.TEST'), 'example.test');
  assert.equal(normalizeDomain('example.test.'), 'example.test');
  assert.equal(normalizeDomain('bücher.test'), 'xn--bcher-kva.test');
  assert.equal(normalizeDomain('BÜCHER.test'), 'xn--bcher-kva.test');
  assert.equal(normalizeDomain('XN--BCHER-KVA.test'), 'xn--bcher-kva.test');
  // NFD input (u + combining diaeresis) is the same domain.
  assert.equal(normalizeDomain('bu\u0308cher.test'), 'xn--bcher-kva.test');
  assert.equal(normalizeDomain('[192.0.2.1]'), '[192.0.2.1]');
  assert.equal(normalizeDomain('[IPv6:2001:DB8::1]'), '[ipv6:2001:db8::1]');
  for (const bad of ['', '.', 'exa mple.test', 'a..test', '-a.test', 'a_b.test', '[', '[]', 'x'.repeat(64) + '.test']) {
    assert.equal(normalizeDomain(bad), undefined, bad);
  }
  // A digits-only name stays a name (the WHATWG host parser would make it 0.0.0.123).
  assert.equal(normalizeDomain('123'), '123');
  assert.equal(unicodeDomain('xn--bcher-kva.test'), 'bücher.test');
  assert.equal(unicodeDomain('example.test'), 'example.test');
});

void test('parseAddress: plain, quoted, UTF-8, source routes, brackets, bare names', () => {
  assert.deepEqual(parseAddress('Alice@Example.TEST'), { local: 'Alice', domain: 'example.test' });
  assert.deepEqual(parseAddress('"alice"@example.test'), { local: 'alice', domain: 'example.test' });
  assert.deepEqual(parseAddress('"john doe"@example.test'), { local: 'john doe', domain: 'example.test' });
  assert.deepEqual(parseAddress('"a@b"@example.test'), { local: 'a@b', domain: 'example.test' });
  assert.deepEqual(parseAddress('"a\\"b\\\\c"@example.test'), { local: 'a"b\\c', domain: 'example.test' });
  assert.deepEqual(parseAddress('jörg@bücher.test'), { local: 'jörg', domain: 'xn--bcher-kva.test' });
  assert.deepEqual(parseAddress('@relay.test,@hop.test:bob@example.test'), { local: 'bob', domain: 'example.test' });
  assert.deepEqual(parseAddress('<bob@example.test>'), { local: 'bob', domain: 'example.test' });
  assert.deepEqual(parseAddress('Postmaster'), { local: 'Postmaster', domain: '' });
  assert.deepEqual(parseAddress('bob@[192.0.2.1]'), { local: 'bob', domain: '[192.0.2.1]' });
  for (const bad of ['', '@example.test', 'bob@', 'bob@bad domain', '"unclosed@example.test', 'a"b@example.test', '"a"b"@example.test', '"a\\"@example.test', '""@example.test', '@route.test']) {
    assert.equal(parseAddress(bad), undefined, bad);
  }
});

void test('splitTag: first separator wins; several separator characters; disabled; leading separator', () => {
  assert.deepEqual(splitTag('Alice+News', '+'), { base: 'alice', tag: 'News' });
  assert.deepEqual(splitTag('alice+a+b', '+'), { base: 'alice', tag: 'a+b' });
  assert.deepEqual(splitTag('alice-x+y', '+-'), { base: 'alice', tag: 'x+y' });
  assert.deepEqual(splitTag('alice+news', ''), { base: 'alice+news' });
  assert.deepEqual(splitTag('+news', '+'), { base: '+news' });
  assert.deepEqual(splitTag('alice+', '+'), { base: 'alice', tag: '' });
  assert.deepEqual(splitTag('ALICE', '+'), { base: 'alice' });
});

void test('canonical forms: lower-case and NFC local parts', () => {
  assert.equal(normalizeLocal('JÖRG'), 'jörg');
  assert.equal(normalizeLocal('jo\u0308rg'), 'jörg');
  assert.equal(canonicalAddress('Sales', 'example.test'), 'sales@example.test');
  assert.equal(canonicalAddress('Postmaster', ''), 'postmaster');
});
