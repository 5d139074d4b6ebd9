import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../dns.ts';
import { ptrName, startDnsServer } from './dns-server.ts';

test('the test DNS server answers A, MX, TXT, PTR, NXDOMAIN and NODATA over UDP and TCP', async (t) => {
  const long = 'v=DKIM1; k=rsa; p=' + 'A'.repeat(400);
  const dns = await startDnsServer({
    'example.test': { A: ['192.0.2.10'], MX: [{ exchange: 'mx1.example.test', priority: 10 }], TXT: ['v=spf1 -all'] },
    'big.example.test': { TXT: Array.from({ length: 20 }, (_, i) => `${i}-${long}`) },
    [ptrName('192.0.2.10')]: { PTR: ['mail.example.test'] },
    [ptrName('2001:db8::1')]: { PTR: ['v6.example.test'] },
  });
  t.after(() => dns.close());
  const r = createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1 });
  assert.deepEqual(await r.resolve4('example.test'), ['192.0.2.10']);
  assert.deepEqual(await r.resolveMx('example.test'), [{ exchange: 'mx1.example.test', priority: 10 }]);
  assert.deepEqual(await r.resolveTxt('example.test'), [['v=spf1 -all']]);
  assert.deepEqual(await r.reverse('192.0.2.10'), ['mail.example.test']);
  assert.deepEqual(await r.reverse('2001:db8::1'), ['v6.example.test']);
  await assert.rejects(r.resolve4('nope.example.test'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolve6('example.test'), { code: 'ENODATA' });
  // ~9 KB: too big for UDP, so the client retries over TCP on the same port.
  assert.equal((await r.resolveTxt('big.example.test')).length, 20);
  dns.set('late.example.test', { A: ['192.0.2.11'] });
  assert.deepEqual(await r.resolve4('late.example.test'), ['192.0.2.11']);
  dns.set('quiet.example.test', { silent: true });
  await assert.rejects(r.resolve4('quiet.example.test'), { code: 'ETIMEOUT' });
  assert.ok(dns.queries.includes('A example.test'));
});
