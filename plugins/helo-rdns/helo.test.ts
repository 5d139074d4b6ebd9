import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeHelo, fqdnProblem, literalAddress } from './helo.ts';

const ctx = { clientIp: '192.0.2.7', ourNames: new Set(['mx.example.test', 'example.test']) };
const checks = (helo: string, c = ctx) => analyzeHelo(helo, c).map((f) => `${f.check}=${f.result}`);

void test('a fully qualified name or the client\'s own address literal is fine (RFC 5321 §4.1.1.1)', () => {
  assert.deepEqual(checks('mail.sender.test'), []);
  assert.deepEqual(checks('MAIL.Sender.TEST.'), []);
  assert.deepEqual(checks('[192.0.2.7]'), []);
  assert.deepEqual(checks('[IPv6:2001:db8::7]', { ...ctx, clientIp: '2001:db8:0::7' }), []);
  assert.deepEqual(checks('[192.0.2.7]', { ...ctx, clientIp: '::ffff:192.0.2.7' }), [], 'a mapped client is its IPv4 address');
});

void test('syntax: single labels, bad characters, numeric TLDs and malformed literals are invalid', () => {
  for (const h of ['localhost', 'MYPC', 'bad_name.test', '-lead.test', 'a..b.test', 'host.123', '[192.0.2.999]', '[IPv6:192.0.2.7]', '[2001:db8::7]', 'x'.repeat(64) + '.test']) {
    assert.deepEqual(checks(h), ['syntax=invalid'], h);
  }
  assert.equal(fqdnProblem('localhost'), 'not a fully qualified domain name');
  assert.equal(literalAddress('[IPv6:::1]'), '::1');
});

void test('a bare address, a literal that is not the client, our own names', () => {
  assert.deepEqual(checks('192.0.2.7'), ['bareIp=bare-ip']);
  assert.deepEqual(checks('2001:db8::7'), ['bareIp=bare-ip']);
  assert.deepEqual(checks('[198.51.100.1]'), ['literalMismatch=mismatch']);
  assert.deepEqual(checks('[IPv6:2001:db8::8]', { ...ctx, clientIp: '2001:db8::7' }), ['literalMismatch=mismatch']);
  assert.deepEqual(checks('MX.example.test'), ['impersonation=impersonation']);
  assert.deepEqual(checks('example.test'), ['impersonation=impersonation']);
  assert.deepEqual(checks('sub.example.test'), [], 'a host in our domain may be a sibling machine: not claimed');
});
