import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authResultsFields, generateTestKeys, message, testZone } from '../../core/auth-results/test-support.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { mxMailbox } from '../../test/helpers/policy-server.ts';

const ID = 'mail.example.net';

async function server(dns: TestDnsServer, plugins: Record<string, unknown>) {
  return startTestServer({
    config: {
      hostname: ID,
      dns: { servers: [dns.server], timeoutMs: 2000 }, // roomy: a loaded CI machine must not turn answers into temperrors
      plugins: { 'auth-file': {}, 'local-domains': { domains: ['pochta.test'] }, ...plugins, maildir: {} },
    },
    setup: (dir) => addUser(dir, 'carol@pochta.test', 'carol password'),
  });
}

describe('spf and dmarc actions end to end', () => {
  let dns: TestDnsServer;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    dns = await startDnsServer(testZone(generateTestKeys()));
    t = await server(dns, {
      spf: { failAction: 'reject', softfailAction: 'tempfail', temperrorAction: 'tempfail' },
      'dkim-verify': {},
      dmarc: { rejectAction: 'tag', noneAction: 'ignore' },
    });
  });
  after(async () => {
    await t.close();
    await dns.close();
  });
  const { deliver, find } = mxMailbox(() => t, 'carol@pochta.test');

  test('failAction reject: 550 5.7.23 at MAIL FROM (RFC 7372)', async () => {
    await assert.rejects(deliver('x@fail.test', message('x@fail.test', 'spf fail')), /550 5\.7\.23 SPF validation failed: fail\.test does not permit 127\.0\.0\.1/);
  });

  test('softfailAction tempfail: 451 4.7.23', async () => {
    await assert.rejects(deliver('x@soft.test', message('x@soft.test', 'spf soft')), /451 4\.7\.23 /);
  });

  test('temperrorAction tempfail on a DNS timeout: 451 4.7.24', async () => {
    await assert.rejects(deliver('x@slow.test', message('x@slow.test', 'spf slow')), /451 4\.7\.24 SPF validation error: SPF check of slow\.test failed temporarily/);
    assert.ok(dns.queries.includes('TXT slow.test'), 'the lookup reached the DNS server');
  });

  test('the null sender is checked with the HELO identity (RFC 7208 §2.4)', async () => {
    // HELO is client.test, which has no SPF record: none, and the bounce goes through.
    await deliver('', message('mailer-daemon@pass.test', 'a bounce'));
    const [v] = authResultsFields(await find('a bounce'));
    assert.match(v, /spf=none .*smtp\.helo=client\.test/);
  });

  test('DMARC rejectAction tag: delivered with the policy header instead of refused', async () => {
    await deliver('news@none.test', message('ceo@reject.test', 'tagged one'));
    const got = await find('tagged one');
    assert.match(got, /^X-Policy-Check: dmarc\/policy=fail score=3 \(header\.from=reject\.test p=reject\)\r$/m);
    assert.match(authResultsFields(got)[0], /dmarc=fail \(p=REJECT\) header\.from=reject\.test/);
  });

  test('evidence recorded for a pass, with the configured score', async () => {
    await deliver('news@none.test', message('news@none.test', 'evidence one'));
    await find('evidence one');
    const line = t.logs.find((l) => l.event === 'smtp.transaction' && l.from === 'news@none.test');
    assert.ok(line, 'the transaction log line carries the evidence');
    assert.match(JSON.stringify(line), /"plugin":"spf","check":"mailfrom","result":"pass","score":0/);
  });
});

describe('trusted sessions are not checked', () => {
  let dns: TestDnsServer;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    dns = await startDnsServer(testZone(generateTestKeys()));
    t = await server(dns, {
      'relay-acl': { networks: ['127.0.0.1/32'] },
      spf: { failAction: 'reject' },
      'dkim-verify': {},
      dmarc: {},
    });
  });
  after(async () => {
    await t.close();
    await dns.close();
  });

  test('a relay client passes with an SPF-failing sender and gets no Authentication-Results', async () => {
    await send({ port: t.port('mx'), from: 'x@fail.test', to: ['carol@pochta.test'], raw: message('ceo@reject.test', 'trusted one') });
    const got = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('trusted one')), 10_000, 'delivery');
    assert.deepEqual(authResultsFields(got), []);
    assert.equal(dns.queries.some((q) => q.includes('fail.test') || q.includes('_dmarc')), false, 'no SPF or DMARC lookups');
  });
});
