import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryKv } from '../../core/kv/memory.ts';
import { GreylistConfig } from './config.ts';
import { Greylist } from './greylist.ts';
import { compileAllowLists, skipReason } from './policy.ts';
import { clientNetwork, tripletKey } from './triplet.ts';

function setup(over: Partial<GreylistConfig> = {}) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const kv = new MemoryKv(clock);
  const cfg = { ...GreylistConfig.parse({}), ...over };
  return { grey: new Greylist(kv, clock, cfg), kv, cfg, advance: (ms: number) => (now += ms) };
}

void test('client network: IPv4 /24, IPv6 /64, IPv4-mapped folded, prefixes configurable', () => {
  assert.equal(clientNetwork('192.0.2.77', 24, 64), '192.0.2.0/24');
  assert.equal(clientNetwork('::ffff:192.0.2.77', 24, 64), '192.0.2.0/24');
  assert.equal(clientNetwork('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 24, 64), '2001:db8:1:2::/64');
  assert.equal(clientNetwork('10.1.2.3', 32, 64), '10.1.2.3/32');
  assert.equal(clientNetwork('10.1.200.3', 20, 64), '10.1.192.0/20');
  assert.equal(clientNetwork('2001:db8:1:2::9', 24, 48), '2001:db8:1::/48');
  assert.equal(tripletKey('n', 'A@B.test', 'c@d.test'), tripletKey('n', 'a@b.test', 'C@D.TEST'), 'addresses compare case-insensitively');
  assert.notEqual(tripletKey('n', 'a@b.test', 'c@d.test'), tripletKey('n', 'a@b.test', 'e@d.test'));
});

void test('a new triplet is greylisted; an early retry is refused without restarting the delay; a retry after the delay passes', async () => {
  const { grey, advance, kv } = setup({ delayMs: 300_000 });
  assert.deepEqual(await grey.check('192.0.2.0/24', 'a@x.test', 'u@y.test'), { kind: 'greylisted', retryInMs: 300_000, first: true });
  advance(100_000);
  assert.deepEqual(await grey.check('192.0.2.0/24', 'a@x.test', 'u@y.test'), { kind: 'greylisted', retryInMs: 200_000, first: false });
  advance(200_000);
  assert.deepEqual(await grey.check('192.0.2.0/24', 'a@x.test', 'u@y.test'), { kind: 'passed', reason: 'retried' });
  assert.deepEqual(await grey.check('192.0.2.0/24', 'a@x.test', 'u@y.test'), { kind: 'passed', reason: 'known' });
  // Another recipient, sender or network is another triplet.
  assert.equal((await grey.check('192.0.2.0/24', 'a@x.test', 'v@y.test')).kind, 'greylisted');
  assert.equal((await grey.check('192.0.2.0/24', 'b@x.test', 'u@y.test')).kind, 'greylisted');
  assert.equal((await grey.check('198.51.100.0/24', 'a@x.test', 'u@y.test')).kind, 'greylisted');
  await kv.close();
});

void test('a retry after the retry window starts over; a pass is forgotten after its expiry unless renewed', async () => {
  const { grey, advance, kv } = setup({ delayMs: 60_000, retryWindowMs: 3_600_000, passExpiryMs: 86_400_000 });
  await grey.check('n', 's', 'r');
  advance(3_600_001);
  assert.deepEqual(await grey.check('n', 's', 'r'), { kind: 'greylisted', retryInMs: 60_000, first: true });
  advance(60_000);
  assert.equal((await grey.check('n', 's', 'r')).kind, 'passed');
  advance(86_000_000);
  assert.deepEqual(await grey.check('n', 's', 'r'), { kind: 'passed', reason: 'known' }, 'renews the pass');
  advance(86_000_000);
  assert.deepEqual(await grey.check('n', 's', 'r'), { kind: 'passed', reason: 'known' });
  advance(86_400_001);
  assert.equal((await grey.check('n', 's', 'r')).kind, 'greylisted');
  await kv.close();
});

void test('autoAllowAfter: a network whose triplets passed N times skips greylisting', async () => {
  const { grey, advance, kv } = setup({ delayMs: 1000, autoAllowAfter: 2 });
  for (const r of ['r1', 'r2']) await grey.check('net', 's', r);
  advance(1000);
  assert.equal((await grey.check('net', 's', 'r1')).kind, 'passed');
  assert.equal((await grey.check('net', 'other', 'r9')).kind, 'greylisted', 'one pass is not enough');
  assert.equal((await grey.check('net', 's', 'r2')).kind, 'passed');
  assert.deepEqual(await grey.check('net', 'new', 'new'), { kind: 'allowed', reason: 'auto-allowed network' });
  assert.equal((await grey.check('other-net', 'new', 'new')).kind, 'greylisted');
  await kv.close();
});

void test('skip reasons: authenticated, relay, networks, DNSWL, client and sender domains, opted-out recipients', () => {
  const lists = compileAllowLists(GreylistConfig.parse({
    networks: ['10.0.0.0/8', '2001:db8::/32'], clientDomains: ['Trusted.test'], senderDomains: ['.partner.test'], recipients: ['postmaster@y.test', '@noisy.test'],
  }));
  const base = { remoteAddress: '192.0.2.1', relayAllowed: false, sender: 'a@x.test', recipient: 'u@y.test' };
  assert.equal(skipReason(lists, base), undefined);
  assert.equal(skipReason(lists, { ...base, user: 'alice' }), 'authenticated');
  assert.equal(skipReason(lists, { ...base, relayAllowed: true }), 'relay client');
  assert.equal(skipReason(lists, { ...base, remoteAddress: '::ffff:10.9.9.9' }), 'network 10.0.0.0/8');
  assert.equal(skipReason(lists, { ...base, remoteAddress: '2001:db8::5' }), 'network 2001:db8::/32');
  assert.equal(skipReason(lists, { ...base, dnswl: 'list.dnswl.test' }), 'dnswl list.dnswl.test');
  assert.equal(skipReason(lists, { ...base, clientHostname: 'mx1.trusted.test.' }), 'client mx1.trusted.test.');
  assert.equal(skipReason(lists, { ...base, clientHostname: 'untrusted.test' }), undefined);
  assert.equal(skipReason(lists, { ...base, sender: 'bob@mail.PARTNER.test' }), 'sender domain mail.partner.test');
  assert.equal(skipReason(lists, { ...base, sender: 'bob@notpartner.test' }), undefined);
  assert.equal(skipReason(lists, { ...base, recipient: 'PostMaster@y.test' }), 'recipient opted out');
  assert.equal(skipReason(lists, { ...base, recipient: 'x@noisy.test' }), 'recipient opted out');
  assert.equal(skipReason(lists, { ...base, recipient: 'x@sub.noisy.test' }), undefined);
});

void test('config: bad networks are refused with the key named; defaults follow RFC 6647', () => {
  const d = GreylistConfig.parse({});
  assert.deepEqual([d.delayMs, d.retryWindowMs, d.passExpiryMs, d.ipv4Prefix, d.ipv6Prefix, d.action, d.onKvFailure], [300_000, 14_400_000, 35 * 86_400_000, 24, 64, 'tempfail', 'accept']);
  const r = GreylistConfig.safeParse({ networks: ['10.0.0.1/8'] });
  assert.equal(r.success, false);
  assert.match(JSON.stringify(r.error?.issues), /did you mean 10\.0\.0\.0\/8/);
  assert.equal(GreylistConfig.safeParse({ action: 'reject' }).success, false, 'greylisting never rejects for good');
});
