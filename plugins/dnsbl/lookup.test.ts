import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import { compileRanges, parseCodeRange } from './codes.ts';
import { DnsblConfig } from './config.ts';
import { classifyAnswer } from './lookup.ts';
import { isPostmaster } from './replies.ts';
import dnsbl from './index.ts';

void test('return codes: one address, a range, a network; mistakes are named', () => {
  assert.deepEqual(parseCodeRange('127.0.0.2'), { lo: 0x7f000002, hi: 0x7f000002, text: '127.0.0.2' });
  assert.deepEqual(parseCodeRange('127.0.0.2-127.0.0.11'), { lo: 0x7f000002, hi: 0x7f00000b, text: '127.0.0.2-127.0.0.11' });
  assert.deepEqual(parseCodeRange('127.255.255.0/24'), { lo: 0x7fffff00, hi: 0x7fffffff, text: '127.255.255.0/24' });
  assert.match(parseCodeRange('127.0.0.11-127.0.0.2') as string, /ends before it starts/);
  assert.match(parseCodeRange('127.0.0.1/24') as string, /host bits/);
  assert.match(parseCodeRange('listed') as string, /not an IPv4 address/);
  assert.match(parseCodeRange('::1') as string, /not an IPv4 address/);
});

void test('classify: listing codes, codes the config does not count, error codes win, answers outside 127/8', () => {
  const err = compileRanges(['127.255.255.0/24']);
  const zen = { zone: 'zen.test', returnCodes: compileRanges(['127.0.0.2-127.0.0.11']) };
  const any = { zone: 'any.test', returnCodes: [] };
  assert.equal(classifyAnswer(['127.0.0.2'], zen, err).status, 'listed');
  assert.equal(classifyAnswer(['127.0.0.11'], zen, err).status, 'listed');
  assert.equal(classifyAnswer(['127.0.0.12'], zen, err).status, 'clear');
  assert.equal(classifyAnswer(['127.0.0.12'], any, err).status, 'listed');
  assert.equal(classifyAnswer(['127.255.255.254'], any, err).status, 'refused');
  assert.equal(classifyAnswer(['127.0.0.2', '127.255.255.255'], zen, err).status, 'refused', 'a refusal is never a listing');
  assert.deepEqual(classifyAnswer(['203.0.113.9'], any, err), { status: 'error', detail: 'answer outside 127.0.0.0/8' });
});

void test('config: bad codes and zone names are refused with the key named; defaults are gentle', () => {
  const bad = DnsblConfig.safeParse({ zones: [{ zone: 'zen.test', returnCodes: ['127.0.0.x'] }, { zone: 'bad zone' }] });
  assert.equal(bad.success, false);
  const paths = bad.error?.issues.map((i) => i.path.join('.'));
  assert.deepEqual(paths, ['zones.0.returnCodes.0', 'zones.1.zone']);
  const d = DnsblConfig.parse({ zones: [{ zone: 'ZEN.Test.' }] });
  assert.equal(d.zones[0]?.zone, 'zen.test');
  assert.equal(d.zones[0]?.action, 'reject');
  assert.equal(d.rejectAt, 'rcpt');
  assert.equal(d.checkPrivate, false);
  assert.deepEqual(d.errorCodes, ['127.255.255.0/24']);
});

void test('postmaster in every spelling RFC 5321 §4.5.1 allows', () => {
  for (const a of ['postmaster', 'Postmaster', 'POSTMASTER@example.test', 'postmaster@[192.0.2.1]']) assert.ok(isPostmaster(a), a);
  for (const a of ['postmaster2@example.test', 'x.postmaster@example.test', 'abuse@example.test']) assert.ok(!isPostmaster(a), a);
});

void test('plugin harness: a private client is never looked up (the default), and the plugin has no opinion', async () => {
  const h = await createPluginHarness({ plugins: [[dnsbl, { zones: [{ zone: 'zen.test' }] }]] });
  try {
    for (const ip of ['10.0.0.1', '::1', '192.168.3.4', '::ffff:127.0.0.1']) {
      const s = h.makeSession({ remoteAddress: ip });
      assert.equal(await h.hooks.smtp.connect.call(s, {}, s.callTrace()), undefined);
      assert.deepEqual(s.evidence, []);
    }
    assert.ok(!Object.keys(h.metrics.snapshot()).some((k) => k.startsWith('dnsbl_lookups_total')), 'no lookups');
    const pub = h.makeSession({ remoteAddress: '203.0.113.1' });
    await h.hooks.smtp.connect.call(pub, {}, pub.callTrace());
    assert.ok(Object.keys(h.metrics.snapshot()).some((k) => k.startsWith('dnsbl_lookups_total{')), 'a public client is looked up');
  } finally {
    await h.close();
  }
});

void test('plugin harness: RCPT refusals record the evidence once per transaction; slots are set', async () => {
  const { startDnsServer } = await import('../../core/testing/dns-server.ts');
  const { createResolver } = await import('../../core/dns.ts');
  const { DNSBL_SLOT, DNSWL_SLOT } = await import('./slots.ts');
  const dns = await startDnsServer({
    '99.2.0.192.bl.test': { A: ['127.0.0.2'] },
    '99.2.0.192.soft.test': { A: ['127.0.0.3'] },
    '98.2.0.192.wl.test': { A: ['127.0.10.2'] },
    '98.2.0.192.bl.test': { A: ['127.0.0.2'] },
  });
  const h = await createPluginHarness({
    plugins: [[dnsbl, { zones: [{ zone: 'soft.test', action: 'tempfail' }, { zone: 'bl.test' }], allowZones: [{ zone: 'wl.test' }] }]],
    dns: createResolver({ servers: [dns.server], timeoutMs: 3000, tries: 1 }),
  });
  try {
    const s = h.makeSession({ remoteAddress: '192.0.2.99' });
    assert.equal(await h.hooks.smtp.connect.call(s, {}, s.callTrace()), undefined, 'rejectAt rcpt: connect goes on');
    assert.deepEqual(s.slots.get(DNSBL_SLOT)?.map((l) => `${l.zone}:${l.action}`), ['bl.test:reject', 'soft.test:tempfail'], 'most severe first');
    const tx = h.makeTransaction(s);
    for (const to of ['a@example.test', 'b@example.test']) {
      const v = await h.hooks.smtp.rcptTo.call(tx, { address: to, args: {} }, tx.callTrace());
      assert.equal(v?.kind, 'reject');
      assert.equal(v?.kind === 'reject' ? v.reply.text : '', 'Rejected: client [192.0.2.99] listed at bl.test; postmaster is still reachable');
    }
    assert.deepEqual(tx.evidence.map((e) => `${e.check}=${e.result}`), ['bl.test=listed', 'soft.test=listed']);
    assert.equal(await h.hooks.smtp.rcptTo.call(tx, { address: 'postmaster@example.test', args: {} }, tx.callTrace()), undefined);

    const authed = h.makeSession({ remoteAddress: '192.0.2.99', user: 'alice@example.test' });
    await h.hooks.smtp.connect.call(authed, {}, authed.callTrace());
    const tx2 = h.makeTransaction(authed);
    assert.equal(await h.hooks.smtp.rcptTo.call(tx2, { address: 'x@example.test', args: {} }, tx2.callTrace()), undefined, 'authenticated: never refused');

    const good = h.makeSession({ remoteAddress: '192.0.2.98' });
    await h.hooks.smtp.connect.call(good, {}, good.callTrace());
    assert.deepEqual(good.slots.get(DNSWL_SLOT), { zone: 'wl.test', codes: ['127.0.10.2'] });
    const tx3 = h.makeTransaction(good);
    assert.equal(await h.hooks.smtp.rcptTo.call(tx3, { address: 'x@example.test', args: {} }, tx3.callTrace()), undefined, 'allow-listed: bl.test not obeyed');
  } finally {
    await h.close();
    await dns.close();
  }
});

void test('plugin harness: a client in relay-acl\'s trusted networks is not looked up', async () => {
  const relayAcl = (await import('../relay-acl/index.ts')).default;
  const h = await createPluginHarness({ plugins: [[relayAcl, { networks: ['192.0.2.0/24'] }], [dnsbl, { zones: [{ zone: 'zen.test' }] }]] });
  try {
    const s = h.makeSession({ remoteAddress: '192.0.2.99' });
    assert.equal(await h.hooks.smtp.connect.call(s, {}, s.callTrace()), undefined);
    assert.equal(s.relay.allowed, true);
    assert.ok(!Object.keys(h.metrics.snapshot()).some((k) => k.startsWith('dnsbl_lookups_total')), 'no lookups');
    // Control: an outside client is looked up (the harness resolver has no server: an unusable list).
    const outside = h.makeSession({ remoteAddress: '198.51.100.1' });
    assert.equal(await h.hooks.smtp.connect.call(outside, {}, outside.callTrace()), undefined);
    assert.ok(Object.keys(h.metrics.snapshot()).some((k) => k.startsWith('dnsbl_lookups_total{')), 'looked up');
  } finally {
    await h.close();
  }
});
