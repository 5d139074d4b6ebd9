import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKv } from '../../core/kv/memory.ts';
import { RateLimitConfig } from './config.ts';
import { Counters } from './counter.ts';
import { clientId, compileSkipLists, networkSkipped, overText, repliesFor, senderSkipped } from './limits.ts';

void test('fixed windows: counts per id and name, a new window starts from 1', async () => {
  let now = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
  const kv = new MemoryKv({ now: () => now });
  const c = new Counters(kv, { now: () => now });
  assert.deepEqual([await c.hit('m', 'a', 60_000), await c.hit('m', 'a', 60_000), await c.hit('m', 'b', 60_000), await c.hit('r', 'a', 60_000)], [1, 2, 1, 1]);
  now += 59_999;
  assert.equal(await c.hit('m', 'a', 60_000), 3);
  now += 1;
  assert.equal(await c.hit('m', 'a', 60_000), 1, 'the next window');
  await kv.close();
});

void test('the open-connection gauge goes up and down and disappears at zero', async () => {
  const kv = new MemoryKv({ now: () => 0 });
  const c = new Counters(kv, { now: () => 0 });
  assert.equal(await c.open('ip', 60_000), 1);
  assert.equal(await c.open('ip', 60_000), 2);
  await c.close('ip');
  assert.equal(await kv.get('rate:open:ip'), '1');
  await c.close('ip');
  assert.equal(await kv.get('rate:open:ip'), undefined);
  await c.close('ip');
  assert.equal(await kv.get('rate:open:ip'), undefined, 'never negative');
  await kv.close();
});

void test('replies: connection limits 421 4.7.0 / 554 5.7.1, the others 451 4.7.1 / 550 5.7.1', () => {
  assert.deepEqual(repliesFor('connectionsPerIp').tempfail, { code: 421, enhanced: '4.7.0', text: 'Too many connections from your address, try again later' });
  assert.equal(repliesFor('concurrentConnectionsPerIp').reject.code, 554);
  assert.deepEqual(repliesFor('messagesPerSender').tempfail, { code: 451, enhanced: '4.7.1', text: 'Too many messages from this sender, try again later' });
  assert.deepEqual(repliesFor('recipientsPerIp').reject, { code: 550, enhanced: '5.7.1', text: 'Too many recipients from your address' });
  assert.equal(overText(4, 3, 60_000), '4/3 per 60s');
  assert.equal(overText(2, 1), '2/1 open');
});

void test('skip lists and client ids', () => {
  const lists = compileSkipLists(RateLimitConfig.parse({ skipNetworks: ['10.0.0.0/8'], skipSenders: ['Boss@Example.test', '@partner.test'] }));
  assert.equal(networkSkipped(lists, '::ffff:10.1.1.1'), true);
  assert.equal(networkSkipped(lists, '192.0.2.1'), false);
  assert.equal(senderSkipped(lists, 'boss@example.test'), true);
  assert.equal(senderSkipped(lists, 'x@partner.test'), true);
  assert.equal(senderSkipped(lists, 'x@notpartner.test'), false);
  assert.equal(senderSkipped(lists, ''), false);
  assert.equal(clientId('::ffff:192.0.2.1'), '192.0.2.1');
  assert.equal(clientId('2001:DB8:0::1'), '2001:db8::1');
  assert.equal(RateLimitConfig.safeParse({ messagesPerIp: { limit: 0 } }).success, false);
  assert.equal(RateLimitConfig.safeParse({ messagesPerIp: { limit: 5, windows: 1 } }).success, false, 'unknown keys are errors');
  assert.equal(RateLimitConfig.parse({ messagesPerIp: { limit: 5 } }).messagesPerIp?.action, 'tempfail');
});
