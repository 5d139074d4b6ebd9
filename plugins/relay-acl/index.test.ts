import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { ConfigError, formatIssues } from '../../core/config/errors.ts';
import { resolvePlugins } from '../../core/plugin-loader.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import relayAcl from './index.ts';

async function harness(config: Record<string, unknown> = {}) {
  return createPluginHarness({ plugins: [[relayAcl, config]] });
}

void test('a client in a trusted network may relay from connect on, and the tap has no opinion', async () => {
  const h = await harness({ networks: ['10.0.0.0/8', '2001:db8::/32'] });
  for (const [addr, reason] of [['10.20.30.40', 'network 10.0.0.0/8'], ['::ffff:10.1.1.1', 'network 10.0.0.0/8'], ['2001:db8::25', 'network 2001:db8::/32']] as const) {
    const s = h.makeSession({ remoteAddress: addr });
    const v = await h.hooks.smtp.connect.call(s, {}, s.callTrace());
    assert.equal(v, undefined, 'relay-acl never answers');
    assert.deepEqual(s.relay, { allowed: true, reason }, addr);
  }
  await h.close();
});

void test('a client outside the trusted networks may not relay', async () => {
  const h = await harness({ networks: ['10.0.0.0/8'] });
  const s = h.makeSession({ remoteAddress: '192.0.2.1' });
  await h.hooks.smtp.connect.call(s, {}, s.callTrace());
  const tx = h.makeTransaction(s);
  await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom, tx.callTrace());
  assert.deepEqual(s.relay, { allowed: false });
  await h.close();
});

void test('the default config trusts no network', async () => {
  const h = await harness();
  const s = h.makeSession({ remoteAddress: '127.0.0.1' });
  await h.hooks.smtp.connect.call(s, {}, s.callTrace());
  assert.equal(s.relay.allowed, false);
  await h.close();
});

void test('an authenticated session may relay from MAIL FROM on (default authenticated: true)', async () => {
  const h = await harness();
  const s = h.makeSession({ remoteAddress: '198.51.100.7', kind: 'submission', secure: true, user: 'alice@example.test' });
  await h.hooks.smtp.connect.call(s, {}, s.callTrace());
  assert.equal(s.relay.allowed, false);
  const tx = h.makeTransaction(s);
  const v = await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom, tx.callTrace());
  assert.equal(v, undefined);
  assert.deepEqual(s.relay, { allowed: true, reason: 'authenticated alice@example.test' });
  assert.deepEqual(tx.trace.map((e) => [e.plugin, e.outcome]), [['relay-acl', 'none']]);
  await h.close();
});

void test('authenticated: false keeps authenticated users from relaying', async () => {
  const h = await harness({ authenticated: false });
  const s = h.makeSession({ user: 'alice@example.test' });
  const tx = h.makeTransaction(s);
  await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom, tx.callTrace());
  assert.equal(s.relay.allowed, false);
  await h.close();
});

void test('an unauthenticated session gets nothing at MAIL FROM; a network reason is kept', async () => {
  const h = await harness({ networks: ['192.0.2.0/24'] });
  const anon = h.makeSession({ remoteAddress: '203.0.113.5' });
  const tx = h.makeTransaction(anon);
  await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom, tx.callTrace());
  assert.equal(anon.relay.allowed, false);

  const trusted = h.makeSession({ remoteAddress: '192.0.2.9', user: 'bob@example.test' });
  await h.hooks.smtp.connect.call(trusted, {}, trusted.callTrace());
  const tx2 = h.makeTransaction(trusted);
  await h.hooks.smtp.mailFrom.call(tx2, tx2.mailFrom, tx2.callTrace());
  assert.equal(trusted.relay.reason, 'network 192.0.2.0/24');
  await h.close();
});

void test('relay-acl taps connect and mailFrom at STAGE.FIRST and nothing at RCPT', async () => {
  const h = await harness();
  assert.deepEqual(h.hooks.smtp.connect.taps(), [{ plugin: 'relay-acl', stage: -200 }]);
  assert.deepEqual(h.hooks.smtp.mailFrom.taps(), [{ plugin: 'relay-acl', stage: -200 }]);
  assert.deepEqual(h.hooks.smtp.rcptTo.taps(), []);
  await h.close();
});

void test('a bad network is a config error naming the key', async () => {
  const r = relayAcl.config.safeParse({ networks: ['10.0.0.0/8', '10.0.0.0/33'] });
  assert.equal(r.success, false);
  assert.deepEqual(formatIssues(r.error, ['plugins', 'relay-acl']), ['plugins.relay-acl.networks.1: "10.0.0.0/33": prefix length must be 0-32']);

  // Through the real loader: the server would refuse to start.
  await assert.rejects(
    resolvePlugins({ 'relay-acl': { networks: ['192.168.1.1/24'] } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError
      && err.problems.includes('plugins.relay-acl.networks.0: "192.168.1.1/24" has host bits set; did you mean 192.168.1.0/24?'),
  );
  await assert.rejects(
    resolvePlugins({ 'relay-acl': { authenticated: 'yes' } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('plugins.relay-acl.authenticated:')),
  );
  await assert.rejects(
    resolvePlugins({ 'relay-acl': { network: ['10.0.0.0/8'] } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.includes('plugins.relay-acl') && p.includes('"network"')),
  );
});
