import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { createResolver } from '../dns.ts';
import { startDnsServer, type TestDnsServer } from '../testing/dns-server.ts';
import { startTestServer } from '../testing/server-harness.ts';
import { startPeers, type Peers } from '../../plugins/outbound/test-support.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { mimeParts, statusBlocks } from './test-support.ts';

const REFUSE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'refuse-local.ts');
const MX = '127.0.0.2';

/**
 * The whole loop with real peers: the queue gives up on a recipient a real remote server refused,
 * the notice quotes that server's reply; and a notice for a remote sender leaves through the
 * outbound engine from the null sender.
 */
describe('DSNs with real remote delivery', () => {
  let peers: Peers;
  let dns: TestDnsServer;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    peers = await startPeers([MX], { rcptError: (a) => (a === 'nobody@remote.test' ? { code: 550, text: '5.1.1 <nobody@remote.test>: no such user here' } : undefined) });
    dns = await startDnsServer({ 'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] }, 'mx.remote.test': { A: [MX] } });
    t = await startTestServer({
      dns: createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } }),
      config: {
        plugins: {
          'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] },
          'refuse-local': { module: REFUSE, users: ['full@pochta.test'] }, maildir: {},
          outbound: { port: peers.port, connectTimeoutMs: 2000, greetingTimeoutMs: 3000, commandTimeoutMs: 5000, mtaSts: { enabled: false } },
        },
      },
      setup: async (dir) => {
        for (const u of ['alice', 'full']) await addUser(dir, `${u}@pochta.test`, 'correct horse battery');
      },
    });
  });
  after(async () => {
    await t?.close();
    await Promise.all([peers?.close(), dns?.close()]);
  });

  test('a 550 from the remote server: the notice names it and quotes its reply; the other recipient was delivered', async () => {
    await send({
      port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' },
      from: 'alice@pochta.test', to: ['ok@remote.test', 'nobody@remote.test'],
      raw: 'From: alice@pochta.test\r\nTo: ok@remote.test, nobody@remote.test\r\nSubject: out\r\nMessage-ID: <out-1@pochta.test>\r\n\r\nhello\r\n',
    });
    await waitFor(() => peers.received.find((r) => r.body.includes('<out-1@pochta.test>')), 15_000, 'remote delivery');
    const raw = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((m) => m.includes('Undelivered Mail')), 15_000, 'the notice');
    const m = await simpleParser(Buffer.from(raw, 'latin1'));
    const ct = m.headers.get('content-type') as { params: Record<string, string> };
    const blocks = statusBlocks(mimeParts(raw, ct.params.boundary)[1].body);
    assert.equal(blocks.length, 2);
    const r = blocks[1];
    assert.equal(r['final-recipient'], 'rfc822;nobody@remote.test');
    assert.equal(r.action, 'failed');
    assert.equal(r.status, '5.1.1');
    assert.match(r['remote-mta'], /^dns; /);
    assert.match(r['diagnostic-code'], /^smtp; 550 5\.1\.1 <nobody@remote\.test>: no such user here$/);
    assert.match(m.text ?? '', /no such user here/);
  });

  test('a notice for a remote sender leaves through outbound delivery, from <>', async () => {
    await send({ port: t.port('mx'), from: 'sender@remote.test', to: ['full@pochta.test'], raw: 'From: sender@remote.test\r\nSubject: to a full box\r\nMessage-ID: <in-1@remote.test>\r\n\r\nx\r\n' });
    const got = await waitFor(() => peers.received.find((r) => r.to.includes('sender@remote.test')), 15_000, 'notice at the remote peer');
    assert.equal(got.from, '');
    assert.match(got.body, /multipart\/report; report-type=delivery-status/);
    assert.match(got.body, /Final-Recipient: rfc822;full@pochta\.test/);
    assert.match(got.body, /<in-1@remote\.test>/);
  });
});
