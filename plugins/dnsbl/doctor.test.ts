import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { reversedLabels } from '../../core/dns/reverse-name.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { interfaceAddresses, pickAddresses } from './doctor.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'pochta.js');

async function pochta(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...args], { cwd }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

describe('pochta doctor blacklists', { timeout: 120_000 }, () => {
  let dns: TestDnsServer;
  let dir: string;
  before(async () => {
    dns = await startDnsServer({
      [`${reversedLabels('192.0.2.99')}.listed.test`]: { A: ['127.0.0.2'] },
      [`${reversedLabels('2001:db8::25')}.listed.test`]: { A: ['127.0.0.3'] },
      [`${reversedLabels('192.0.2.99')}.refused.test`]: { A: ['127.255.255.254'] },
      [`${reversedLabels('192.0.2.10')}.refused.test`]: { A: ['127.255.255.254'] },
    });
    dir = await mkdtemp(path.join(tmpdir(), 'pochta-doctor-'));
    await writeFile(path.join(dir, 'pochta.config.yaml'), [
      `dns: { servers: ['${dns.server}'], timeoutMs: 5000, tries: 1 }`,
      'plugins:',
      '  dnsbl:',
      '    zones:',
      "      - { zone: listed.test, returnCodes: ['127.0.0.2-127.0.0.11'] }",
      '      - { zone: clear.test }',
      '      - { zone: refused.test }',
      "    outboundAddresses: ['192.0.2.10']",
      '    budgetMs: 5000',
      '',
    ].join('\n'));
  });
  after(async () => {
    await dns.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a listed address: a table row says LISTED with the code, exit code 1', async () => {
    const r = await pochta(['doctor', 'blacklists', '--ip', '192.0.2.99', '--ip', '2001:db8::25'], dir);
    assert.equal(r.code, 1, r.stderr);
    const lines = r.stdout.split('\n');
    assert.match(lines[0] ?? '', /^address\s+zone\s+result$/);
    assert.ok(lines.some((l) => /^192\.0\.2\.99\s+listed\.test\s+LISTED \(127\.0\.0\.2\)$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^2001:db8::25\s+listed\.test\s+LISTED \(127\.0\.0\.3\)$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^192\.0\.2\.99\s+clear\.test\s+not listed$/.test(l)), r.stdout);
    assert.ok(lines.some((l) => /^192\.0\.2\.99\s+refused\.test\s+unknown: the list refused the query \(127\.255\.255\.254\)/.test(l)), r.stdout);
    assert.match(r.stdout, /2 listings found/);
    assert.ok(dns.queries.includes(`A ${reversedLabels('2001:db8::25')}.listed.test`), 'IPv6 asked in nibble form');
  });

  test('without --ip the configured outboundAddresses are checked; not listed is exit code 0', async () => {
    const r = await pochta(['doctor', 'blacklists'], dir);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^192\.0\.2\.10\s+listed\.test\s+not listed$/m);
    assert.match(r.stdout, /not listed on 3 lists \(1 lookup gave no answer\)/);
  });

  test('a config without zones is a usage error (exit code 2)', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'pochta-doctor-'));
    try {
      // dnsbl not enabled: the core's fallback names what to enable.
      await writeFile(path.join(empty, 'pochta.config.yaml'), 'plugins:\n  relay-acl: {}\n');
      const off = await pochta(['doctor', 'blacklists', '--ip', '192.0.2.1'], empty);
      assert.equal(off.code, 2);
      assert.match(off.stderr, /no block lists configured: enable the dnsbl plugin/);
      // dnsbl enabled without zones: the plugin's own command says where to add them.
      await writeFile(path.join(empty, 'pochta.config.yaml'), 'plugins:\n  relay-acl: {}\n  dnsbl: {}\n');
      const r = await pochta(['doctor', 'blacklists', '--ip', '192.0.2.1'], empty);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /no block lists configured: add zones under plugins\.dnsbl\.zones/);
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  test('the default address list is the host\'s own non-loopback addresses', () => {
    const addrs = interfaceAddresses();
    for (const a of addrs) {
      assert.notEqual(isIP(a), 0);
      assert.ok(!a.startsWith('127.') && a !== '::1', a);
    }
    assert.deepEqual(pickAddresses([], { outboundAddresses: ['198.51.100.1'] }), ['198.51.100.1']);
    assert.deepEqual(pickAddresses([], {}), addrs);
    assert.deepEqual(pickAddresses(['203.0.113.5'], { outboundAddresses: ['198.51.100.1'] }), ['203.0.113.5']);
    assert.throws(() => pickAddresses(['mail.example.test', '192.0.2.1'], {}), /not an IP address: mail\.example\.test$/);
  });
});
