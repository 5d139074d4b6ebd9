import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createResolver } from '../../core/dns.ts';
import { REMOTE_DELIVERY, type RemoteJob, type RemoteResult } from '../../core/queue/remote.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import { startDnsServer, type DnsZone, type TestDnsServer } from '../../core/testing/dns-server.ts';
import outbound from './index.ts';
import { basicReplies, startScript } from './script-server.ts';
import { makeCert, makeJob, startPeers, type PeerOptions, type Peers } from './test-support.ts';

const MX1 = '127.0.0.2';
const MX2 = '127.0.0.3';

/** example.test with two MX hosts; mx1 preferred. */
const zone = (): DnsZone => ({
  'example.test': { MX: [{ exchange: 'mx1.example.test', priority: 10 }, { exchange: 'mx2.example.test', priority: 20 }] },
  'mx1.example.test': { A: [MX1] },
  'mx2.example.test': { A: [MX2] },
});

interface Env {
  peers: Peers;
  dns: TestDnsServer;
  deliver(job: RemoteJob): Promise<readonly RemoteResult[]>;
  logs: Array<Record<string, any>>;
  close(): Promise<void>;
}

async function setup(o: { zone?: DnsZone; peers?: string[]; peer?: PeerOptions | ((a: string) => PeerOptions); config?: Record<string, unknown>; caPem?: string } = {}): Promise<Env> {
  const peers = await startPeers(o.peers ?? [MX1, MX2], o.peer ?? {});
  const dns = await startDnsServer(o.zone ?? zone());
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-outbound-ca-'));
  let caFile: string | undefined;
  if (o.caPem) {
    caFile = path.join(dir, 'ca.pem');
    await writeFile(caFile, o.caPem);
  }
  const config = { port: peers.port, connectTimeoutMs: 2000, greetingTimeoutMs: 3000, commandTimeoutMs: 5000, mtaSts: { enabled: false }, ...o.config };
  if (caFile) (config as Record<string, unknown>).tls = { ...((config as { tls?: object }).tls ?? {}), caFile };
  const h = await createPluginHarness({
    plugins: [[outbound, config]],
    dns: createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } }),
  });
  const delivery = h.services.get(REMOTE_DELIVERY);
  return {
    peers, dns, logs: h.logs,
    deliver: (job) => delivery.deliver(job, new AbortController().signal),
    async close() {
      await h.close();
      await Promise.all([peers.close(), dns.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function run(env: Env, o: Parameters<typeof makeJob>[0]) {
  const { job, cleanup } = await makeJob(o);
  try {
    return await env.deliver(job);
  } finally {
    await cleanup();
  }
}

void test('delivers over opportunistic STARTTLS to the preferred MX; the policy is logged', async () => {
  const cert = await makeCert(['mx1.example.test', 'mx2.example.test']);
  const env = await setup({ peer: { cert } });
  const res = await run(env, { to: ['bob@example.test', 'carol@example.test'] });
  assert.deepEqual(res.map((r) => [r.address, r.outcome.kind, r.outcome.mx]), [['bob@example.test', 'delivered', 'mx1.example.test'], ['carol@example.test', 'delivered', 'mx1.example.test']]);
  assert.equal(res[0].outcome.reply?.code, 250);
  assert.equal(env.peers.received.length, 1);
  const got = env.peers.received[0];
  assert.equal(got.peer, MX1);
  assert.equal(got.secure, true, 'STARTTLS was used');
  assert.deepEqual(got.to, ['bob@example.test', 'carol@example.test']);
  assert.match(got.body, /^From: a@sender\.test\r\n/);
  const line = env.logs.find((l) => l.event === 'outbound.attempt');
  assert.equal(line?.tlsPolicy, 'opportunistic no-verify (default)');
  assert.equal(line?.verified, false);
  assert.match(String(line?.tls), /^TLSv1\.[23]/);
  await env.close();
});

void test('verify mode: a certificate for the MX name is accepted; a wrong name is refused, never plaintext', async () => {
  const good = await makeCert(['mx1.example.test', 'mx2.example.test']);
  let env = await setup({ peer: { cert: good }, caPem: good.cert, config: { tls: { domains: { 'example.test': { verify: true } } } } });
  let res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(env.logs.find((l) => l.event === 'outbound.attempt')?.verified, true);
  await env.close();

  const wrong = await makeCert(['other.test']);
  env = await setup({ peer: { cert: wrong }, caPem: wrong.cert, config: { tls: { domains: { 'example.test': { verify: true } } } } });
  res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.match((res[0].outcome as { reason: string }).reason, /mx1\.example\.test.*TLS|certificate|altnames/i);
  assert.equal(env.peers.received.length, 0, 'nothing went out in plaintext');
  await env.close();
});

void test('no STARTTLS offered: opportunistic goes plaintext, require is a tempfail', async () => {
  let env = await setup();
  let res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(env.peers.received[0]?.secure, false);
  await env.close();

  env = await setup({ config: { tls: { mode: 'require' } } });
  res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.equal(env.peers.received.length, 0);
  await env.close();
});

void test('4xx from the remote is a tempfail, 5xx a permfail with the remote reply', async () => {
  const env = await setup({
    peer: {
      rcptError: (a) => (a.startsWith('full') ? { code: 452, text: '4.2.2 Mailbox full' } : a.startsWith('nobody') ? { code: 550, text: '5.1.1 No such user' } : undefined),
    },
  });
  const res = await run(env, { to: ['bob@example.test', 'full@example.test', 'nobody@example.test'] });
  const by = new Map(res.map((r) => [r.address, r.outcome]));
  assert.equal(by.get('bob@example.test')?.kind, 'delivered');
  assert.equal(by.get('full@example.test')?.kind, 'tempfail');
  assert.deepEqual(by.get('full@example.test')?.reply, { code: 452, enhanced: '4.2.2', text: 'Mailbox full' });
  assert.equal(by.get('nobody@example.test')?.kind, 'permfail');
  assert.deepEqual(by.get('nobody@example.test')?.reply, { code: 550, enhanced: '5.1.1', text: 'No such user' });
  assert.equal(by.get('nobody@example.test')?.mx, 'mx1.example.test');
  assert.deepEqual(env.peers.received.map((m) => m.to), [['bob@example.test']]);
  await env.close();
});

void test('every recipient refused with 5xx: permfail each; MAIL FROM refused: all get its reply', async () => {
  const env = await setup({ peer: { rcptError: () => ({ code: 550, text: '5.7.1 Relaying denied' }) } });
  const res = await run(env, { to: ['a@example.test', 'b@example.test'] });
  assert.deepEqual(res.map((r) => [r.outcome.kind, r.outcome.reply?.enhanced]), [['permfail', '5.7.1'], ['permfail', '5.7.1']]);
  await env.close();

  const refuseSender = await setup({
    peer: { server: { onMailFrom: (_a, _s, cb) => cb(Object.assign(new Error('4.7.1 Sender greylisted'), { responseCode: 451 })) } },
  });
  const res2 = await run(refuseSender, { to: ['a@example.test', 'b@example.test'] });
  assert.deepEqual(res2.map((r) => [r.outcome.kind, r.outcome.reply?.code, r.outcome.reply?.text]), [['tempfail', 451, 'Sender greylisted'], ['tempfail', 451, 'Sender greylisted']]);
  assert.equal(refuseSender.peers.received.length, 0);
  await refuseSender.close();
});

void test('null MX (RFC 7505): permfail 5.1.10 at once, no connection', async () => {
  const env = await setup({ zone: { ...zone(), 'nomail.test': { MX: [{ exchange: '.', priority: 0 }] } } });
  const res = await run(env, { to: ['x@nomail.test'] });
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.equal(res[0].outcome.reply?.enhanced, '5.1.10');
  assert.match(res[0].outcome.reply?.text ?? '', /does not accept mail/);
  assert.equal([...env.peers.connections.values()].reduce((a, b) => a + b, 0), 0);
  await env.close();
});

void test('MX fallback: a 4xx greeting at the first MX moves to the next', async () => {
  const env = await setup({ peer: (a) => (a === MX1 ? { greeting: { code: 421, text: '4.3.2 Busy, try later' } } : {}) });
  const res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(res[0].outcome.mx, 'mx2.example.test');
  assert.equal(env.peers.connections.get(MX1), 1);
  assert.equal(env.peers.received[0]?.peer, MX2);
  await env.close();
});

void test('MX fallback: a host not listening is skipped; all hosts down is a tempfail naming them', async () => {
  // mx0 has the best preference but nothing listens on 127.0.0.4.
  const z = { ...zone(), 'example.test': { MX: [{ exchange: 'mx0.example.test', priority: 5 }, { exchange: 'mx2.example.test', priority: 20 }] }, 'mx0.example.test': { A: ['127.0.0.4'] } };
  let env = await setup({ zone: z });
  let res = await run(env, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.mx, 'mx2.example.test');
  await env.close();

  env = await setup({ zone: { 'down.test': { MX: [{ exchange: 'mx0.down.test', priority: 5 }] }, 'mx0.down.test': { A: ['127.0.0.4'] } } });
  res = await run(env, { to: ['bob@down.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.match((res[0].outcome as { reason: string }).reason, /mx0\.down\.test\[127\.0\.0\.4\]/);
  await env.close();
});

void test('no MX: the A record is the implicit MX (RFC 5321 §5.1); no such domain is a permfail', async () => {
  const env = await setup({ zone: { 'plain.test': { A: [MX2] } } });
  let res = await run(env, { to: ['bob@plain.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(res[0].outcome.mx, 'plain.test');
  assert.equal(env.peers.received[0]?.peer, MX2);
  res = await run(env, { to: ['bob@nowhere.test'] });
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.match((res[0].outcome as { reason: string }).reason, /does not exist/);
  await env.close();
});

void test('connection reuse: two jobs, one connection, no RSET after a completed transaction (RFC 5321 §4.1.4)', async () => {
  const env = await setup({ config: { reuse: { idleMs: 5000, maxMessages: 10 } } });
  const a = await run(env, { to: ['bob@example.test'] });
  const b = await run(env, { to: ['carol@example.test'] });
  assert.equal(a[0].outcome.kind, 'delivered');
  assert.equal(b[0].outcome.kind, 'delivered');
  assert.equal(env.peers.received.length, 2);
  assert.equal(env.peers.connections.get(MX1), 1, 'one connection');
  assert.equal(env.peers.received[0].sessionId, env.peers.received[1].sessionId);
  assert.equal(env.peers.resets.get(MX1) ?? 0, 0, 'the end-of-data reply ended the first transaction');
  assert.deepEqual(env.logs.filter((l) => l.event === 'outbound.attempt').map((l) => l.reused), [false, true]);
  await env.close();
});

void test('a reused connection that breaks before any reply: the message goes over one fresh connection, not a tempfail', async () => {
  const replies = basicReplies(['PIPELINING']);
  let mails = 0;
  const relay = await startScript({
    onLine(line, s) {
      // The first connection dies at the start of its second transaction (an idle timeout race).
      if (line.startsWith('MAIL') && ++mails === 2) {
        s.socket.destroy();
        return undefined;
      }
      return replies(line);
    },
  });
  const env = await setup({ config: { smarthost: { host: '127.0.0.1', port: relay.port, tls: 'none' }, reuse: { idleMs: 5000, maxMessages: 10 } } });
  try {
    const a = await run(env, { to: ['bob@example.test'] });
    const b = await run(env, { to: ['carol@example.test'] });
    assert.deepEqual([a[0].outcome.kind, b[0].outcome.kind], ['delivered', 'delivered']);
    assert.equal(relay.sessions.length, 2);
    assert.deepEqual(relay.sessions.map((s) => s.bodies.length), [1, 1]);
    assert.deepEqual(env.logs.filter((l) => l.event === 'outbound.attempt').map((l) => l.reused), [false, true, false]);
  } finally {
    await env.close();
    await relay.close();
  }
});

void test('concurrency: perDestination caps the connections to one domain; jobs wait, none is lost', async () => {
  const env = await setup({ config: { concurrency: { total: 10, perDestination: 2 }, reuse: { idleMs: 5000, maxMessages: 100 } } });
  const jobs = await Promise.all(Array.from({ length: 8 }, (_, i) => makeJob({ to: [`u${i}@example.test`] })));
  const res = await Promise.all(jobs.map((j) => env.deliver(j.job)));
  await Promise.all(jobs.map((j) => j.cleanup()));
  assert.deepEqual(res.map((r) => r[0].outcome.kind), Array(8).fill('delivered'));
  assert.equal(env.peers.received.length, 8);
  assert.ok(env.peers.maxOpen <= 2, `at most 2 connections at once, saw ${env.peers.maxOpen}`);
  assert.ok((env.peers.connections.get(MX1) ?? 0) <= 2, 'the rest reused them');
  await env.close();
});

void test('SIZE: a message larger than the remote accepts is a permfail 5.3.4, nothing sent', async () => {
  const env = await setup({ peer: { server: { size: 200 } } });
  const res = await run(env, { to: ['bob@example.test'], body: `Subject: big\r\n\r\n${'x'.repeat(500)}\r\n` });
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.equal(res[0].outcome.reply?.enhanced, '5.3.4');
  assert.match(res[0].outcome.reply?.text ?? '', /at most 200/);
  assert.equal(env.peers.received.length, 0);
  await env.close();
});

void test('SMTPUTF8: refused with 5.6.7 by a server without it; passed on to one that has it', async () => {
  let env = await setup({ peer: { server: { hideSMTPUTF8: true } } });
  const utf8 = { to: ['bob@example.test'], mailFrom: { smtpUtf8: true, body: '8bitmime' as const }, body: 'Subject: Grüße\r\n\r\nHallo\r\n' };
  let res = await run(env, utf8);
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.equal(res[0].outcome.reply?.enhanced, '5.6.7');
  assert.match(res[0].outcome.reply?.text ?? '', /SMTPUTF8/);
  await env.close();

  env = await setup();
  res = await run(env, utf8);
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(env.peers.received[0]?.envelope.smtpUtf8, true);
  assert.equal(env.peers.received[0]?.envelope.bodyType, '8bitmime');
  assert.match(env.peers.received[0].body, /Grüße/);
  await env.close();
});

void test('8BITMIME: an 8-bit body to a 7-bit server bounces 5.6.3; a declared-8bit ASCII body goes', async () => {
  const env = await setup({ peer: { server: { hide8BITMIME: true } } });
  let res = await run(env, { to: ['bob@example.test'], mailFrom: { body: '8bitmime' }, body: 'Subject: x\r\n\r\nK\xf6ln\r\n' });
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.equal(res[0].outcome.reply?.enhanced, '5.6.3');
  res = await run(env, { to: ['bob@example.test'], mailFrom: { body: '8bitmime' }, body: 'Subject: x\r\n\r\nplain\r\n' });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(env.peers.received[0]?.envelope.bodyType, '7bit');
  await env.close();
});

void test('DSN parameters (RET, ENVID, NOTIFY, ORCPT) go to a next hop offering DSN', async () => {
  const env = await setup({ peer: { server: { hideDSN: false } } });
  const res = await run(env, {
    to: [{ address: 'bob@example.test', notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;bob@example.test' }, { address: 'carol@example.test', notify: ['NEVER'], orcpt: 'rfc822;carol+x=y@example.test' }],
    mailFrom: { dsn: { ret: 'HDRS', envid: 'env 42+x' } },
  });
  assert.deepEqual(res.map((r) => [r.outcome.kind, (r.outcome as { dsn?: boolean }).dsn]), [['delivered', true], ['delivered', true]]);
  assert.equal(env.peers.received.length, 1, 'one transaction, NOTIFY/ORCPT per RCPT');
  const bob = env.peers.received.find((m) => m.to.includes('bob@example.test'))!;
  assert.deepEqual(bob.envelope.dsn, { ret: 'HDRS', envid: 'env 42+x' }, 'ENVID xtext-encoded on the wire (RFC 3461 §4), decoded by the peer');
  const rcpt = bob.envelope.rcptTo[0] as unknown as { dsn: { notify: string[]; orcpt: string } };
  assert.deepEqual(rcpt.dsn.notify, ['SUCCESS', 'FAILURE']);
  assert.equal(rcpt.dsn.orcpt, 'rfc822;bob@example.test');
  const carol = bob.envelope.rcptTo.find((r) => r.address === 'carol@example.test') as unknown as { dsn: { notify: string[]; orcpt: string } };
  assert.deepEqual(carol.dsn.notify, ['NEVER']);
  assert.equal(carol.dsn.orcpt, 'rfc822;carol+x=y@example.test');
  await env.close();
});

void test('REQUIRETLS (RFC 8689): passed on over verified TLS; a server without it is a permfail 5.7.30', async () => {
  const cert = await makeCert(['mx1.example.test', 'mx2.example.test']);
  let env = await setup({ peer: { cert, server: { hideREQUIRETLS: false } }, caPem: cert.cert });
  let res = await run(env, { to: ['bob@example.test'], mailFrom: { requireTls: true } });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(env.peers.received[0]?.secure, true);
  assert.equal((env.peers.received[0]?.envelope as { requireTLS?: boolean }).requireTLS, true);
  assert.match(String(env.logs.find((l) => l.event === 'outbound.attempt')?.tlsPolicy), /require verify .*requiretls/);
  await env.close();

  env = await setup({ peer: { cert }, caPem: cert.cert });
  res = await run(env, { to: ['bob@example.test'], mailFrom: { requireTls: true } });
  assert.equal(res[0].outcome.reply?.enhanced, '5.7.30');
  assert.equal(res[0].outcome.kind, 'permfail');
  assert.equal(env.peers.received.length, 0);
  await env.close();
});

void test('headerPrefix is prepended and removeHeaders dropped on the way out', async () => {
  const env = await setup();
  await run(env, { to: ['bob@example.test'], headerPrefix: 'DKIM-Signature: v=1; test\r\n', removeHeaders: ['x-internal'], body: 'X-Internal: secret\r\nSubject: s\r\n\r\nbody\r\n' });
  const body = env.peers.received[0].body;
  assert.match(body, /^DKIM-Signature: v=1; test\r\nSubject: s\r\n/);
  assert.doesNotMatch(body, /X-Internal/i);
  await env.close();
});

void test('next-hop grouping: domains sharing a smarthost go in one transaction; 4xx/5xx per RCPT are per recipient', async () => {
  // The smarthost's port is the peers' own, so this test builds its harness after they listen.
  const peers = await startPeers([MX1], { rcptError: (a) => (a.startsWith('full') ? { code: 452, text: '4.2.2 Mailbox full' } : a.startsWith('nobody') ? { code: 550, text: '5.1.1 No such user' } : undefined) });
  const dns = await startDnsServer({ 'relay.test': { A: [MX1] } });
  const h = await createPluginHarness({
    plugins: [[outbound, { smarthost: { host: 'relay.test', port: peers.port, tls: 'none' }, mtaSts: { enabled: false }, connectTimeoutMs: 2000 }]],
    dns: createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } }),
  });
  try {
    const { job, cleanup } = await makeJob({ to: ['a@one.test', 'full@two.test', 'b@three.test', 'nobody@one.test'] });
    const res = await h.services.get(REMOTE_DELIVERY).deliver(job, new AbortController().signal);
    await cleanup();
    // One connection, one transaction, every RCPT in it; DATA carried the accepted ones.
    assert.equal(peers.connections.get(MX1), 1);
    assert.deepEqual(peers.received.map((m) => m.to), [['a@one.test', 'b@three.test']]);
    const by = new Map(res.map((r) => [r.address, r.outcome]));
    assert.equal(by.get('a@one.test')?.kind, 'delivered');
    assert.equal(by.get('b@three.test')?.kind, 'delivered');
    assert.equal(by.get('full@two.test')?.kind, 'tempfail');
    assert.deepEqual(by.get('full@two.test')?.reply, { code: 452, enhanced: '4.2.2', text: 'Mailbox full' });
    assert.equal(by.get('nobody@one.test')?.kind, 'permfail');
    assert.deepEqual(by.get('nobody@one.test')?.reply, { code: 550, enhanced: '5.1.1', text: 'No such user' });
  } finally {
    await h.close();
    await Promise.all([peers.close(), dns.close()]);
  }
});

void test('next-hop grouping by MX host list: two domains with the same MX share a transaction, another MX gets its own', async () => {
  const env = await setup({
    zone: {
      'one.test': { MX: [{ exchange: 'mx1.example.test', priority: 10 }] },
      'two.test': { MX: [{ exchange: 'mx1.example.test', priority: 5 }] },
      'three.test': { MX: [{ exchange: 'mx2.example.test', priority: 10 }] },
      'mx1.example.test': { A: [MX1] },
      'mx2.example.test': { A: [MX2] },
    },
  });
  try {
    const res = await run(env, { to: ['a@one.test', 'b@two.test', 'c@three.test'] });
    assert.deepEqual(res.map((r) => r.outcome.kind), ['delivered', 'delivered', 'delivered']);
    const byPeer = new Map(env.peers.received.map((m) => [m.peer, m.to]));
    assert.equal(env.peers.received.length, 2);
    assert.deepEqual(byPeer.get(MX1), ['a@one.test', 'b@two.test']);
    assert.deepEqual(byPeer.get(MX2), ['c@three.test']);
    assert.equal(env.peers.connections.get(MX1), 1);
  } finally {
    await env.close();
  }
});
