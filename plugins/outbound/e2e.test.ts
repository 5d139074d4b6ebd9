import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../core/dns.ts';
import { startDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, send, waitFor } from '../../test/helpers/mail.ts';
import { startPeers } from './test-support.ts';

const MX = '127.0.0.2';

/**
 * Through the whole server: a message accepted on the MX listener, spooled, handed by the core
 * scheduler to REMOTE_DELIVERY, delivered by this plugin to a real SMTP peer found by MX lookup.
 * The aliases plugin's external forward is a remote target like any other: no change needed.
 */
void test('e2e: a relayed recipient and an alias forwarded off-site both go out through outbound', async () => {
  const peers = await startPeers([MX]);
  const dns = await startDnsServer({
    'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
    'mx.remote.test': { A: [MX] },
  });
  const srv = await startTestServer({
    dns: createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1 }),
    setup: (dir) => addUser(dir, 'alice@example.net', 'pw-alice-1'),
    config: {
      plugins: {
        'relay-acl': { networks: ['127.0.0.0/8'] },
        'auth-file': {},
        aliases: { aliases: { 'fwd@example.net': ['alice@example.net', 'Alice.Elsewhere@remote.test'] } },
        'local-domains': {},
        maildir: {},
        outbound: { port: peers.port, connectTimeoutMs: 2000 },
      },
    },
  });
  try {
    await send({ port: srv.port('mx'), from: 'sender@origin.test', to: ['bob@remote.test'], raw: 'From: sender@origin.test\r\nSubject: relayed\r\n\r\nhello\r\n' });
    await send({ port: srv.port('mx'), from: 'sender@origin.test', to: ['fwd@example.net'], raw: 'From: sender@origin.test\r\nSubject: forwarded\r\n\r\nhello\r\n' });
    await waitFor(() => peers.received.length >= 2, 15_000, 'both messages at the remote MX');
    const bySubject = new Map(peers.received.map((m) => [/Subject: (\w+)/.exec(m.body)?.[1], m]));
    assert.deepEqual(bySubject.get('relayed')?.to, ['bob@remote.test']);
    assert.deepEqual(bySubject.get('forwarded')?.to, ['Alice.Elsewhere@remote.test']);
    assert.equal(bySubject.get('forwarded')?.from, 'sender@origin.test');
    // The core's Received header went along.
    assert.match(bySubject.get('relayed')!.body, /^Received: from /m);
    assert.ok(srv.logs.some((l) => l.event === 'outbound.attempt' && l.mx === 'mx.remote.test'));
  } finally {
    await srv.close();
    await Promise.all([peers.close(), dns.close()]);
  }
});
