import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver, type DnsOptions } from '../dns.ts';
import { startDnsServer, type DnsZone } from '../testing/dns-server.ts';
import { ptrName, reversedLabels, sameAddress } from './reverse-name.ts';

const ZONE: DnsZone = {
  'a.example.test': { A: ['192.0.2.1', '192.0.2.2'], TXT: ['v=spf1 -all'] },
  'mx.example.test': { MX: [{ exchange: 'mail.example.test', priority: 10 }] },
  'six.example.test': { AAAA: ['2001:db8::1'] },
  'slow.example.test': { silent: true },
  'broken.example.test': { servfail: true },
  '1.2.0.192.in-addr.arpa': { PTR: ['a.example.test'] },
  [ptrName('::1')!]: { PTR: ['localhost6.example.test'] },
};

async function setup(client: DnsOptions['client'], opts: Omit<DnsOptions, 'servers' | 'client'> = {}) {
  const server = await startDnsServer(ZONE);
  let now = 1_000_000;
  const clock = { now: () => now };
  const dns = createResolver({ servers: [server.server], timeoutMs: 3000, tries: 1, clock, client, ...opts });
  const count = (q: string) => server.queries.filter((x) => x === q).length;
  return { server, dns, count, advance: (ms: number) => { now += ms; } };
}

// Every resolver behaviour holds for both clients (dns.client).
for (const client of ['pochta', 'node'] as const) {
  void test(`answers of every type come back with the answer TTL (60 s at the test server; only A/AAAA with node\'s client) [client: ${client}]`, async () => {
    const { server, dns, count, advance } = await setup(client, { cache: { defaultTtlSec: 300 } });
    try {
      assert.deepEqual((await dns.resolve4('A.Example.Test.')).sort(), ['192.0.2.1', '192.0.2.2']);
      assert.deepEqual(await dns.resolve6('six.example.test'), ['2001:db8::1']);
      assert.deepEqual(await dns.resolveMx('mx.example.test'), [{ exchange: 'mail.example.test', priority: 10 }]);
      assert.deepEqual(await dns.resolveTxt('a.example.test'), [['v=spf1 -all']]);
      assert.deepEqual(await dns.reverse('192.0.2.1'), ['a.example.test']);
      assert.deepEqual(await dns.reverse('::1'), ['localhost6.example.test']);
      // Second round: all from the cache, the server sees nothing new.
      const before = server.queries.length;
      await dns.resolve4('a.example.test');
      await dns.resolveTxt('a.example.test');
      await dns.reverse('192.0.2.1');
      assert.equal(server.queries.length, before);
      assert.ok(dns.cache.hits >= 3);
      // 59 s later A is still cached; at 61 s its 60 s TTL has run out. TXT too with the built-in
      // client, which reads every answer's TTL; node's reports it for A/AAAA only, so TXT is kept
      // for defaultTtlSec (300 s).
      const txtAfter61s = client === 'pochta' ? 2 : 1;
      advance(59_000);
      await dns.resolve4('a.example.test');
      assert.equal(count('A a.example.test'), 1);
      advance(2_000);
      await dns.resolve4('a.example.test');
      await dns.resolveTxt('a.example.test');
      assert.equal(count('A a.example.test'), 2);
      assert.equal(count('TXT a.example.test'), txtAfter61s);
      advance(300_000);
      await dns.resolveTxt('a.example.test');
      assert.equal(count('TXT a.example.test'), txtAfter61s + 1);
    } finally {
      await server.close();
    }
  });

  void test(`min/max TTL clamp the answer TTL [client: ${client}]`, async () => {
    const { server, dns, count, advance } = await setup(client, { cache: { maxTtlSec: 10 } });
    try {
      await dns.resolve4('a.example.test');
      advance(11_000);
      await dns.resolve4('a.example.test');
      assert.equal(count('A a.example.test'), 2, 'maxTtlSec 10 beats the 60 s answer TTL');
    } finally {
      await server.close();
    }
    const b = await setup(client, { cache: { minTtlSec: 600 } });
    try {
      await b.dns.resolve4('a.example.test');
      b.advance(500_000);
      await b.dns.resolve4('a.example.test');
      assert.equal(b.count('A a.example.test'), 1, 'minTtlSec 600 keeps it past 60 s');
    } finally {
      await b.server.close();
    }
  });

  void test(`NXDOMAIN and NODATA keep node's codes (mailauth relies on them) and are cached for negativeTtlSec [client: ${client}]`, async () => {
    const { server, dns, count, advance } = await setup(client, { cache: { negativeTtlSec: 30 } });
    try {
      for (let i = 0; i < 2; i++) {
        await assert.rejects(dns.resolve('nope.example.test', 'TXT'), { code: 'ENOTFOUND' });
        await assert.rejects(dns.resolve('mx.example.test', 'TXT'), { code: 'ENODATA' });
      }
      assert.equal(count('TXT nope.example.test'), 1);
      assert.equal(count('TXT mx.example.test'), 1);
      advance(31_000);
      await assert.rejects(dns.resolve('nope.example.test', 'TXT'), { code: 'ENOTFOUND' });
      assert.equal(count('TXT nope.example.test'), 2);
      // The generic entry point mailauth calls answers like node's resolver.
      assert.deepEqual(await dns.resolve('a.example.test', 'TXT'), [['v=spf1 -all']]);
      assert.deepEqual(await dns.resolve('mx.example.test', 'MX'), [{ exchange: 'mail.example.test', priority: 10 }]);
    } finally {
      await server.close();
    }
  });

  void test(`a silent name fails with ETIMEOUT (not ENOTFOUND) and is not cached; SERVFAIL is its own code [client: ${client}]`, async () => {
    const { server, dns, count } = await setup(client, { timeoutMs: 300 });
    try {
      await assert.rejects(dns.resolve4('slow.example.test'), (e: Error & { code?: string }) => e.code === 'ETIMEOUT' && /slow\.example\.test/.test(e.message));
      await assert.rejects(dns.resolve4('slow.example.test'), { code: 'ETIMEOUT' });
      assert.ok(count('A slow.example.test') >= 2, 'a timeout is asked again');
      await assert.rejects(dns.resolve4('broken.example.test'), { code: 'ESERVFAIL' });
    } finally {
      await server.close();
    }
  });

  void test(`a per-call timeout shorter than the resolver's ends that call with ETIMEOUT; the shared query still fills the cache [client: ${client}]`, async () => {
    const { server, dns, count } = await setup(client, { timeoutMs: 3000 });
    try {
      server.delayMs = 300;
      await assert.rejects(dns.resolve4('a.example.test', { timeoutMs: 50 }), { code: 'ETIMEOUT' });
      server.delayMs = 0;
      assert.deepEqual((await dns.resolve4('a.example.test')).sort(), ['192.0.2.1', '192.0.2.2']);
      assert.equal(count('A a.example.test'), 1, 'the second call joined the first query or read its cached answer');
    } finally {
      await server.close();
    }
  });

  void test(`concurrent identical lookups share one query [client: ${client}]`, async () => {
    const { server, dns, count } = await setup(client);
    try {
      server.delayMs = 100;
      const all = await Promise.all(Array.from({ length: 10 }, () => dns.resolve4('a.example.test')));
      assert.equal(count('A a.example.test'), 1);
      for (const a of all) assert.deepEqual(a.sort(), ['192.0.2.1', '192.0.2.2']);
      // Each caller owns its array.
      all[0].push('mutated');
      assert.equal((await dns.resolve4('a.example.test')).length, 2);
    } finally {
      await server.close();
    }
  });

  void test(`the cache is bounded: the least recently used entry goes first [client: ${client}]`, async () => {
    const { server, dns, count } = await setup(client, { cache: { maxEntries: 2 } });
    try {
      await dns.resolve4('a.example.test');
      await dns.resolve6('six.example.test');
      await dns.resolve4('a.example.test'); // a is now the most recent
      await dns.resolveMx('mx.example.test'); // evicts six
      assert.equal(dns.cache.size, 2);
      await dns.resolve4('a.example.test');
      await dns.resolve6('six.example.test');
      assert.equal(count('A a.example.test'), 1);
      assert.equal(count('AAAA six.example.test'), 2);
    } finally {
      await server.close();
    }
  });

  void test(`two resolvers (two servers) never share a cache [client: ${client}]`, async () => {
    const a = await setup(client);
    try {
      const other = createResolver({ servers: [a.server.server], timeoutMs: 3000, tries: 1, client });
      await a.dns.resolve4('a.example.test');
      await other.resolve4('a.example.test');
      assert.equal(a.count('A a.example.test'), 2);
    } finally {
      await a.server.close();
    }
  });

}

void test('reversed labels: IPv4 octets, IPv6 nibbles (RFC 5782 §2.4), mapped IPv4 as IPv4', () => {
  assert.equal(reversedLabels('192.0.2.99'), '99.2.0.192');
  assert.equal(reversedLabels('::ffff:192.0.2.99'), '99.2.0.192');
  assert.equal(reversedLabels('2001:db8:1:2:3:4:567:89ab'), 'b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.8.b.d.0.1.0.0.2');
  assert.equal(reversedLabels('::1'), `1${'.0'.repeat(31)}`);
  assert.equal(reversedLabels('2001:DB8::'), `${'0.'.repeat(24)}8.b.d.0.1.0.0.2`);
  assert.equal(reversedLabels('64:ff9b::192.0.2.1'), reversedLabels('64:ff9b::c000:201'));
  assert.equal(ptrName('::1'), `1${'.0'.repeat(31)}.ip6.arpa`);
  assert.equal(ptrName('10.1.2.3'), '3.2.1.10.in-addr.arpa');
  for (const bad of ['', 'example.test', '1.2.3', '::g', '1.2.3.256']) assert.equal(reversedLabels(bad), undefined, bad);
  assert.ok(sameAddress('::1', '0:0:0:0:0:0:0:1'));
  assert.ok(sameAddress('::ffff:127.0.0.1', '127.0.0.1'));
  assert.ok(!sameAddress('127.0.0.1', '127.0.0.2'));
});

void test('mailauth runs SPF through resolve(name, rrtype): pass, fail, and none for a missing domain', async () => {
  const { spf } = await import('mailauth/lib/spf/index.js');
  const server = await startDnsServer({
    'sender.test': { TXT: ['v=spf1 ip4:192.0.2.0/24 include:_spf.sender.test -all'] },
    '_spf.sender.test': { TXT: ['v=spf1 ip4:198.51.100.7 -all'] },
  });
  try {
    const dns = createResolver({ servers: [server.server], timeoutMs: 3000, tries: 1 });
    const resolver = (name: string, rrtype: string) => dns.resolve(name, rrtype);
    const check = async (ip: string, sender: string) =>
      ((await spf({ ip, sender, helo: 'client.test', mta: 'mx.test', resolver } as never)) as { status: { result: string } }).status.result;
    assert.equal(await check('192.0.2.5', 'a@sender.test'), 'pass');
    assert.equal(await check('198.51.100.7', 'a@sender.test'), 'pass');
    assert.equal(await check('203.0.113.1', 'a@sender.test'), 'fail');
    assert.equal(await check('203.0.113.1', 'a@nosuch.test'), 'none');
  } finally {
    await server.close();
  }
});
