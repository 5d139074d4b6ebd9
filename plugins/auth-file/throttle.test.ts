import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from '../../core/kv/memory.ts';
import { createThrottle, ipKey } from './throttle.ts';
import { fakeClock } from './test-helpers.ts';

const setup = (perIp = { maxFailures: 3, windowMs: 60_000, lockoutMs: 300_000 }, perUser = { maxFailures: 5, windowMs: 60_000, lockoutMs: 300_000 }) => {
  const clock = fakeClock();
  const kv = new MemoryKv(clock);
  return { clock, kv, t: createThrottle({ kv, prefix: 'auth-file', perIp, perUser }) };
};
const A = { ip: '192.0.2.1', user: 'alice@example.test' };

void test('the Nth failure from an address locks it; the lock lifts after lockoutMs', async () => {
  const { clock, kv, t } = setup();
  assert.equal(await t.blocked(A), undefined);
  assert.deepEqual(await t.failed(A), []);
  assert.deepEqual(await t.failed({ ...A, user: 'bob@example.test' }), []);
  assert.deepEqual(await t.failed({ ...A, user: 'carol@example.test' }), ['ip']);
  assert.equal(await t.blocked(A), 'ip');
  assert.equal(await t.blocked({ ip: '192.0.2.1', user: 'dave@example.test' }), 'ip');
  assert.equal(await t.blocked({ ip: '192.0.2.2', user: 'alice@example.test' }), undefined);
  clock.advance(299_999);
  assert.equal(await t.blocked(A), 'ip');
  clock.advance(1);
  assert.equal(await t.blocked(A), undefined);
  // The count started over: one more failure does not lock again.
  assert.deepEqual(await t.failed(A), []);
  assert.equal(await t.blocked(A), undefined);
  await kv.close();
});

void test('failures spread wider than the window never lock', async () => {
  const { clock, kv, t } = setup();
  for (let i = 0; i < 10; i++) {
    assert.deepEqual(await t.failed(A), []);
    if (i % 2 === 1) clock.advance(60_000);
  }
  assert.equal(await t.blocked(A), undefined);
  await kv.close();
});

void test('a username is locked after its own limit, from any address; success clears its count', async () => {
  const { kv, t } = setup({ maxFailures: 0, windowMs: 60_000, lockoutMs: 60_000 });
  for (let i = 0; i < 4; i++) await t.failed({ ip: `198.51.100.${i}`, user: A.user });
  await t.succeeded(A);
  for (let i = 0; i < 4; i++) assert.deepEqual(await t.failed({ ip: `198.51.100.${i}`, user: A.user }), []);
  assert.deepEqual(await t.failed({ ip: '203.0.113.9', user: A.user }), ['user']);
  assert.equal(await t.blocked({ ip: '203.0.113.10', user: A.user }), 'user');
  assert.equal(await t.blocked({ ip: '203.0.113.10', user: 'bob@example.test' }), undefined);
  await kv.close();
});

void test('maxFailures 0 switches a rule off', async () => {
  const { kv, t } = setup({ maxFailures: 0, windowMs: 1000, lockoutMs: 1000 }, { maxFailures: 0, windowMs: 1000, lockoutMs: 1000 });
  for (let i = 0; i < 50; i++) await t.failed(A);
  assert.equal(await t.blocked(A), undefined);
  await kv.close();
});

void test('addresses: IPv4-mapped IPv6 counts as IPv4; IPv6 counts by /64', async () => {
  assert.equal(ipKey('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(ipKey('2001:db8:1:2:aaaa::1'), ipKey('2001:db8:1:2:bbbb::2'));
  assert.notEqual(ipKey('2001:db8:1:2::1'), ipKey('2001:db8:1:3::1'));
  assert.equal(ipKey('2001:db8::1'), ipKey('2001:0db8:0000:0000:ffff::'));
  const { kv, t } = setup();
  for (let i = 1; i <= 3; i++) await t.failed({ ip: `2001:db8:0:1::${i}`, user: `u${i}@x.test` });
  assert.equal(await t.blocked({ ip: '2001:db8:0:1:dead:beef::', user: 'z@x.test' }), 'ip');
  await kv.close();
});
