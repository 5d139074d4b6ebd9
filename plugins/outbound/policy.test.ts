import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rootCertificates } from 'node:tls';
import { createResolver } from '../../core/dns.ts';
import { definePlugin } from '../../core/plugin.ts';
import { REMOTE_DELIVERY, type RemoteJob } from '../../core/queue/remote.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import { startDnsServer, type DnsZone } from '../../core/testing/dns-server.ts';
import { OutboundConfig } from './config.ts';
import { hookCalls, OutboundEngine } from './engine.ts';
import outbound from './index.ts';
import { makeCert, makeJob, startPeers, startPolicyServer, type PeerOptions } from './test-support.ts';
import { policyKey } from './tls-policy.ts';
import { z } from 'zod';
import { waitFor } from '../../test/helpers/mail.ts';
import { MemoryKv } from '../../core/kv/memory.ts';
import { memoryLogger } from '../../core/testing/memory-log.ts';

const MX1 = '127.0.0.2';
const RELAY = '127.0.0.5';
const POLICY_HOST = '127.0.0.9';

const baseZone = (): DnsZone => ({
  'example.test': { MX: [{ exchange: 'mx1.example.test', priority: 10 }] },
  'mx1.example.test': { A: [MX1] },
  'mta-sts.example.test': { A: [POLICY_HOST] },
  '_mta-sts.example.test': { TXT: ['v=STSv1; id=pol1;'] },
  'relay.test': { A: [RELAY] },
});

/**
 * An engine over a harness runtime (so plugin taps on the outbound hooks are called), pointed at
 * the test DNS server, trusting `ca` on top of the system roots.
 */
async function setupEngine(o: { zone: DnsZone; config: Record<string, unknown>; ca: string[]; taps?: Parameters<typeof definePlugin>[0]['register'] }) {
  const dns = await startDnsServer(o.zone);
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } });
  const tapper = definePlugin({ name: 'route-test', description: 'taps the outbound hooks', config: z.strictObject({}), register: o.taps ?? (() => {}) });
  const h = await createPluginHarness({ plugins: [[tapper, {}]], dns: resolver });
  const kv = new MemoryKv({ now: () => Date.now() });
  const { log, lines } = memoryLogger();
  const config = OutboundConfig.parse({ connectTimeoutMs: 2000, greetingTimeoutMs: 3000, commandTimeoutMs: 5000, ...o.config });
  const engine = new OutboundEngine({
    config, ehloName: 'out.test', dns: resolver, kv, log, now: () => Date.now(),
    resolvePath: (p) => p, ca: [...rootCertificates, ...o.ca], hooks: hookCalls(h.hooks),
  });
  return {
    dns, h, engine, lines,
    deliver: async (job: RemoteJob) => engine.deliver(job, new AbortController().signal),
    async close() {
      engine.close();
      await h.close();
      await kv.close();
      await dns.close();
    },
  };
}


async function send(deliver: (j: RemoteJob) => Promise<unknown>, o: Parameters<typeof makeJob>[0]) {
  const { job, cleanup } = await makeJob(o);
  try {
    return (await deliver(job)) as Array<{ address: string; outcome: { kind: string; reply?: { code: number; enhanced?: string; text: string }; mx?: string; reason?: string } }>;
  } finally {
    await cleanup();
  }
}

void test('MTA-STS enforce: the policy is fetched over HTTPS, cached, and enforced', async () => {
  const mxCert = await makeCert(['mx1.example.test']);
  const stsCert = await makeCert(['mta-sts.example.test']);
  let policy = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 86400\n';
  const web = await startPolicyServer(POLICY_HOST, stsCert, () => policy);
  const peers = await startPeers([MX1], { cert: mxCert });
  const env = await setupEngine({ zone: baseZone(), ca: [mxCert.cert, stsCert.cert], config: { port: peers.port, mtaSts: { httpsPort: web.port } } });
  let res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  const line = env.lines.find((l) => l.event === 'outbound.attempt');
  assert.equal(line?.tlsPolicy, 'require verify mx=mx1.example.test (mta-sts)');
  assert.equal(line?.verified, true);
  assert.equal(peers.received[0]?.secure, true);
  assert.equal(web.hits, 1);

  // Same id in DNS: the cached policy is used, not fetched again (even though the server changed it).
  policy = 'version: STSv1\nmode: enforce\nmx: mx9.example.test\nmax_age: 86400\n';
  res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(web.hits, 1, 'served from the cache');

  // A new id: fetched again; now no MX matches → tempfail 4.7.5 and no connection at all.
  env.dns.set('_mta-sts.example.test', { TXT: ['v=STSv1; id=pol2;'] });
  const connectionsBefore = peers.connections.get(MX1);
  res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(web.hits, 2);
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.equal(res[0].outcome.reply?.enhanced, '4.7.5');
  assert.match(res[0].outcome.reason ?? '', /no MX host of example\.test matches/);
  assert.equal(peers.connections.get(MX1), connectionsBefore);
  await env.close();
  await Promise.all([peers.close(), web.close()]);
});

void test('MTA-STS enforce with a certificate that does not verify: no delivery; testing mode: delivered and reported', async () => {
  const badCert = await makeCert(['mx1.example.test']); // not trusted: not in ca
  const stsCert = await makeCert(['mta-sts.example.test']);
  let policy = 'version: STSv1\nmode: enforce\nmx: mx1.example.test\nmax_age: 600\n';
  const web = await startPolicyServer(POLICY_HOST, stsCert, () => policy);
  const peers = await startPeers([MX1], { cert: badCert });
  let env = await setupEngine({ zone: baseZone(), ca: [stsCert.cert], config: { port: peers.port, mtaSts: { httpsPort: web.port } } });
  let res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.match(res[0].outcome.reason ?? '', /certificate/i);
  assert.equal(peers.received.length, 0, 'never sent without a verified certificate');
  await env.close();

  policy = 'version: STSv1\nmode: testing\nmx: mx1.example.test\nmax_age: 600\n';
  env = await setupEngine({ zone: baseZone(), ca: [stsCert.cert], config: { port: peers.port, mtaSts: { httpsPort: web.port } } });
  res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  const line = env.lines.find((l) => l.event === 'outbound.attempt');
  assert.match(String(line?.tlsPolicy), /testing/);
  assert.match(String(line?.mtaStsReport), /certificate not valid/);
  await env.close();
  await Promise.all([peers.close(), web.close()]);
});

void test('smarthost with AUTH over STARTTLS, password from the environment, never logged', async () => {
  const cert = await makeCert(['relay.test']);
  const peerOpts: PeerOptions = { cert, auth: { user: 'relay-user', pass: 'pw-Secret-42' } };
  const peers = await startPeers([RELAY], peerOpts);
  process.env.POCHTA_TEST_RELAY_PASS = 'pw-Secret-42';
  const env = await setupEngine({
    // No MX for far.test at all: only the smarthost can deliver it.
    zone: { 'relay.test': { A: [RELAY] } }, ca: [cert.cert],
    config: { smarthost: { host: 'relay.test', port: peers.port, tls: 'starttls', user: 'relay-user', password: { env: 'POCHTA_TEST_RELAY_PASS' } } },
  });
  let res = await send(env.deliver, { to: ['x@far.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(res[0].outcome.mx, 'relay.test');
  assert.equal(peers.received[0]?.secure, true);
  assert.equal(peers.received[0]?.envelope.mailFrom && peers.received[0].from, 'a@sender.test');
  assert.ok(!JSON.stringify(env.lines).includes('pw-Secret-42'), 'the password is not in the logs');
  await env.close();

  process.env.POCHTA_TEST_RELAY_PASS = 'wrong';
  const env2 = await setupEngine({
    zone: { 'relay.test': { A: [RELAY] } }, ca: [cert.cert],
    config: { smarthost: { host: 'relay.test', port: peers.port, tls: 'starttls', user: 'relay-user', password: { env: 'POCHTA_TEST_RELAY_PASS' } } },
  });
  res = await send(env2.deliver, { to: ['x@far.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail', 'a refused AUTH is a configuration problem: retried, not bounced');
  assert.match(res[0].outcome.reason ?? '', /AUTH failed/);
  assert.equal(peers.received.length, 1);
  delete process.env.POCHTA_TEST_RELAY_PASS;
  await env2.close();
  await peers.close();
});

void test('smarthost with implicit TLS (465 style) and a verified certificate', async () => {
  const cert = await makeCert(['relay.test']);
  const peers = await startPeers([RELAY], { cert, server: { secure: true } });
  const env = await setupEngine({
    zone: { 'relay.test': { A: [RELAY] } }, ca: [cert.cert],
    config: { smarthost: { host: 'relay.test', port: peers.port, tls: 'implicit' } },
  });
  const res = await send(env.deliver, { to: ['x@far.test'] });
  assert.equal(res[0].outcome.kind, 'delivered');
  assert.equal(peers.received[0]?.secure, true);
  const line = env.lines.find((l) => l.event === 'outbound.attempt');
  assert.equal(line?.tlsPolicy, 'require verify (smarthost)');
  assert.equal(line?.verified, true);
  await env.close();
  await peers.close();
});

void test('an abort (server stop) ends a stalled attempt at once with tempfails', async () => {
  // The peer never greets: only the abort can end the attempt before the greeting timeout.
  const peers = await startPeers([MX1], { stall: true });
  const env = await setupEngine({ zone: baseZone(), ca: [], config: { port: peers.port, mtaSts: { enabled: false }, greetingTimeoutMs: 60_000 } });
  const { job, cleanup } = await makeJob({ to: ['bob@example.test', 'carol@example.test'] });
  const ac = new AbortController();
  const pending = env.engine.deliver(job, ac.signal);
  await waitFor(() => peers.connections.get(MX1) === 1);
  ac.abort(new Error('server stopping'));
  const res = await pending;
  assert.deepEqual(res.map((r) => r.outcome.kind), ['tempfail', 'tempfail']);
  await cleanup();
  await env.close();
  await peers.close();
});

void test('transports map: one domain through a relay, the others by MX', async () => {
  const peers = await startPeers([MX1, RELAY]);
  const env = await setupEngine({
    zone: { ...baseZone(), '_mta-sts.example.test': {} }, ca: [],
    config: { port: peers.port, mtaSts: { enabled: false }, transports: { '*.corp.test': { host: RELAY, port: peers.port, tls: 'none' } } },
  });
  const res = await send(env.deliver, { to: ['a@eu.corp.test', 'b@example.test'] });
  assert.deepEqual(res.map((r) => [r.outcome.kind, r.outcome.mx]), [['delivered', RELAY], ['delivered', 'mx1.example.test']]);
  assert.deepEqual(peers.received.map((m) => [m.peer, m.to]).sort(), [[MX1, ['b@example.test']], [RELAY, ['a@eu.corp.test']]]);
  await env.close();
  await peers.close();
});

void test('hooks: outbound.route picks a relay, tlsPolicy tightens, beforeAttempt delays or cancels', async () => {
  const peers = await startPeers([MX1, RELAY]);
  const seen: string[] = [];
  const env = await setupEngine({
    zone: { ...baseZone(), 'strict.test': { MX: [{ exchange: 'mx1.example.test', priority: 1 }] } }, ca: [],
    config: { port: peers.port, mtaSts: { enabled: false } },
    taps: (hooks) => {
      hooks.outbound.route.tap((d) => (d.domain === 'routed.test' ? { kind: 'smarthost', host: RELAY, port: peers.port, tls: 'none' } : undefined));
      hooks.outbound.tlsPolicy.tap((d, { policy }) => {
        seen.push(`${d.domain}:${policy.source}`);
        return d.domain === 'strict.test' ? { ...policy, mode: 'require', source: 'route-test' } : undefined;
      });
      hooks.outbound.beforeAttempt.tap((d) => {
        if (d.domain === 'later.test') return { kind: 'delay', reason: 'quota for later.test used up' };
        if (d.domain === 'never.test') return { kind: 'cancel', reason: 'blocked destination' };
        return undefined;
      });
    },
  });
  const res = await send(env.deliver, { to: ['a@routed.test', 'b@later.test', 'c@never.test', 'd@strict.test'] });
  const by = new Map(res.map((r) => [r.address, r.outcome]));
  assert.equal(by.get('a@routed.test')?.kind, 'delivered');
  assert.equal(by.get('a@routed.test')?.mx, RELAY);
  assert.equal(by.get('b@later.test')?.kind, 'tempfail');
  assert.match(by.get('b@later.test')?.reason ?? '', /quota/);
  assert.equal(by.get('c@never.test')?.kind, 'permfail');
  assert.equal(by.get('c@never.test')?.reply?.enhanced, '5.7.0');
  // strict.test: the hook asked for TLS; the peer offers none → tempfail, nothing sent there.
  assert.equal(by.get('d@strict.test')?.kind, 'tempfail');
  assert.deepEqual(peers.received.map((m) => m.to), [['a@routed.test']]);
  assert.deepEqual(seen.sort(), ['routed.test:smarthost', 'strict.test:default']);
  assert.match(String(env.lines.find((l) => l.event === 'outbound.connect-failed' && l.domain === 'strict.test')?.tlsPolicy), /require no-verify \(route-test\)/);
  await env.close();
  await peers.close();
});

void test('pinned certificate fingerprint: the pinned one passes, another is refused', async () => {
  const cert = await makeCert(['mx1.example.test']);
  const { X509Certificate } = await import('node:crypto');
  const fp = new X509Certificate(cert.cert).fingerprint256;
  const peers = await startPeers([MX1], { cert });
  let env = await setupEngine({ zone: baseZone(), ca: [], config: { port: peers.port, mtaSts: { enabled: false }, tls: { domains: { 'example.test': { fingerprints: [fp] } } } } });
  let res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'delivered', 'self-signed but pinned');
  await env.close();
  env = await setupEngine({ zone: baseZone(), ca: [], config: { port: peers.port, mtaSts: { enabled: false }, tls: { domains: { 'example.test': { fingerprints: ['AB'.repeat(32)] } } } } });
  res = await send(env.deliver, { to: ['bob@example.test'] });
  assert.equal(res[0].outcome.kind, 'tempfail');
  assert.match(res[0].outcome.reason ?? '', /fingerprint not pinned/);
  assert.equal(peers.received.length, 1);
  await env.close();
  await peers.close();
});

void test('the plugin provides REMOTE_DELIVERY and reads tls.caFile at start', async () => {
  const h = await createPluginHarness({ plugins: [[outbound, {}]] });
  assert.equal(typeof h.services.get(REMOTE_DELIVERY).deliver, 'function');
  await h.close();
  await assert.rejects(createPluginHarness({ plugins: [[outbound, { tls: { caFile: '/nonexistent/ca.pem' } }]] }), /tls\.caFile: cannot read/);
});

void test('the plugin as registered calls the outbound hooks (ctx.drives): a tap on outbound.route routes the mail', async () => {
  const peers = await startPeers([RELAY]);
  const dns = await startDnsServer(baseZone());
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } });
  const tapper = definePlugin({
    name: 'route-test', description: 'routes one domain to a relay', config: z.strictObject({}),
    register: (hooks) => hooks.outbound.route.tap((d) => (d.domain === 'nomx.test' ? { kind: 'smarthost', host: RELAY, port: peers.port, tls: 'none' } : undefined)),
  });
  const h = await createPluginHarness({ plugins: [[tapper, {}], [outbound, { port: peers.port, mtaSts: { enabled: false } }]], dns: resolver });
  try {
    // nomx.test has no DNS records at all: only the hook can route it.
    const res = await send((j) => h.services.get(REMOTE_DELIVERY).deliver(j, new AbortController().signal), { to: ['a@nomx.test'] });
    assert.equal(res[0]?.outcome.kind, 'delivered');
    assert.equal(res[0]?.outcome.mx, RELAY);
    assert.deepEqual(peers.received.map((m) => m.to), [['a@nomx.test']]);
  } finally {
    await h.close();
    await dns.close();
    await peers.close();
  }
});

test('policyKey: policies that pin different certificates never share a transaction or a pooled connection', () => {
  const base = { mode: 'require' as const, verify: true, source: 'config' };
  const a = policyKey({ ...base, fingerprints: ['AA:BB'] });
  assert.notEqual(a, policyKey({ ...base, fingerprints: ['CC:DD'] }));
  assert.equal(a, policyKey({ ...base, fingerprints: ['aabb'] }), 'the same pin however it is written');
  assert.notEqual(policyKey({ ...base, mxPatterns: ['mx1.example'] }), policyKey({ ...base, mxPatterns: ['mx2.example'] }));
  assert.notEqual(policyKey(base), policyKey({ ...base, testing: true }));
});
