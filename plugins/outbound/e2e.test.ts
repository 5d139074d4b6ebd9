import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createResolver } from '../../core/dns.ts';
import { jsonLines } from '../../core/queue/testing/queue-fixture.ts';
import { RecordingNotifier } from '../../core/queue/testing/recording-notifier.ts';
import { startSmtpSink } from '../../core/queue/testing/smtp-sink.ts';
import { startDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
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

/**
 * The scheduler and this engine together: one message for four recipients in three domains,
 * all routed to one smarthost, goes as one transaction with four RCPTs; the smarthost's 452 for
 * one defers only that one (retried and delivered alone later), its 550 for another bounces only
 * that one, and the queue empties.
 */
void test('e2e: recipients sharing a smarthost go in one transaction; each RCPT reply decides its own recipient', async () => {
  const sink = await startSmtpSink({
    rcpt: (a, seen) => (a === 'busy@two.test' && seen === 0 ? { code: 452, text: '4.2.2 mailbox busy, try later' }
      : a === 'gone@three.test' ? { code: 550, text: '5.1.1 no such user' } : undefined),
  });
  const work = await mkdtemp(path.join(tmpdir(), 'pochta-outbound-e2e-'));
  const notices = path.join(work, 'notices.jsonl');
  const srv = await startTestServer({
    notifier: new RecordingNotifier(notices),
    config: {
      queue: { remoteRetryBaseMs: 100, remoteRetryMaxMs: 1000 },
      plugins: {
        'relay-acl': { networks: ['127.0.0.0/8'] },
        outbound: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' }, mtaSts: { enabled: false }, connectTimeoutMs: 2000 },
      },
    },
  }).catch(async (err: unknown) => {
    await sink.close();
    throw err;
  });
  try {
    const rcpts = ['a@one.test', 'busy@two.test', 'b@one.test', 'gone@three.test'];
    await send({ port: srv.port('mx'), from: 'sender@origin.test', to: rcpts, raw: 'From: sender@origin.test\r\nSubject: grouped\r\n\r\nhello\r\n' });
    await waitFor(async () => (await readdir(path.join(srv.dataDir, 'queue'))).length === 0, 20_000, 'an empty queue');
    // First attempt: one transaction, every RCPT in it, the two accepted ones in DATA.
    assert.deepEqual(sink.messages.map((m) => m.to), [['a@one.test', 'b@one.test'], ['busy@two.test']]);
    for (const r of rcpts) assert.equal(sink.rcptCount(r), r === 'busy@two.test' ? 2 : 1);
    const deferred = srv.logs.filter((l) => l.event === 'outbound.deferred');
    assert.deepEqual(deferred.map((l) => l.rcpt), ['busy@two.test']);
    const bounced = srv.logs.filter((l) => l.event === 'outbound.bounced');
    assert.deepEqual(bounced.map((l) => l.rcpt), ['gone@three.test']);
    const failures = await jsonLines(notices);
    assert.deepEqual(failures.map((n) => [n.kind, n.recipients.map((r: { address: string; status: string }) => `${r.address} ${r.status}`)]), [['failure', ['gone@three.test 5.1.1']]]);
    assert.equal(srv.logs.filter((l) => l.event === 'outbound.attempt').length, 2);
  } finally {
    await srv.close();
    await sink.close();
    await rm(work, { recursive: true, force: true });
  }
});

/** A hold stops remote delivery only: the local recipient of the same message is delivered at once. */
void test('e2e: while remote delivery is held, local recipients are delivered; the remote one waits for release', async () => {
  const sink = await startSmtpSink();
  const srv = await startTestServer({
    setup: (dir) => addUser(dir, 'alice@example.net', 'pw-alice-1'),
    config: {
      plugins: {
        'relay-acl': { networks: ['127.0.0.0/8'] },
        'auth-file': {},
        'local-domains': {},
        maildir: {},
        outbound: { smarthost: { host: '127.0.0.1', port: sink.port, tls: 'none' }, mtaSts: { enabled: false }, connectTimeoutMs: 2000 },
      },
    },
  }).catch(async (err: unknown) => {
    await sink.close();
    throw err;
  });
  try {
    await srv.server.queue.hold();
    await send({ port: srv.port('mx'), from: 'sender@origin.test', to: ['alice@example.net', 'bob@remote.test'], raw: 'From: sender@origin.test\r\nSubject: mixed\r\n\r\nhello\r\n' });
    await waitFor(() => srv.logs.some((l) => l.event === 'queue.parked'), 15_000, 'the message parked');
    assert.equal((await readInbox(srv.dataDir, 'alice@example.net')).length, 1);
    assert.equal(sink.messages.length, 0);
    assert.deepEqual(srv.server.queue.stats().held, 1);
    assert.equal(await srv.server.queue.release(), 1);
    await waitFor(() => sink.messages.length === 1, 15_000, 'the remote copy relayed');
    assert.deepEqual(sink.messages[0].to, ['bob@remote.test']);
    await waitFor(async () => (await readdir(path.join(srv.dataDir, 'queue'))).length === 0, 15_000, 'an empty queue');
    assert.equal((await readInbox(srv.dataDir, 'alice@example.net')).length, 1, 'delivered once');
  } finally {
    await srv.close();
    await sink.close();
  }
});
