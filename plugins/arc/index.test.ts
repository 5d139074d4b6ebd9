import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { authenticate, sealMessage } from 'mailauth';
import { authResultsFields, dkimRecord, generateTestKeys, message, pem, signMessage, testZone, type TestKeys } from '../../core/auth-results/test-support.ts';
import { mailauthResolver } from '../../core/auth-results/resolver.ts';
import { createResolver } from '../../core/dns.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';

const ID = 'mail.example.net';
const CAPTURE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'capture-remote.test-plugin.ts');

describe('arc: chains verified on arrival, forwarded mail sealed', () => {
  let dns: TestDnsServer;
  let keys: TestKeys;
  const sealKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const listKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let outDir: string;

  before(async () => {
    keys = generateTestKeys();
    dns = await startDnsServer({
      ...testZone(keys),
      'arc1._domainkey.pochta.test': { TXT: [dkimRecord(sealKey.publicKey)] },
      'arc9._domainkey.lists.test': { TXT: [dkimRecord(listKey.publicKey)] },
    });
    t = await startTestServer({
      config: {
        hostname: ID,
        dns: { servers: [dns.server], timeoutMs: 2000 }, // roomy: a loaded CI machine must not turn answers into temperrors
        plugins: {
          'auth-file': {},
          aliases: { aliases: { 'team@pochta.test': ['friend@external.test', 'carol@pochta.test'] } },
          'local-domains': { domains: ['pochta.test'] },
          spf: {},
          'dkim-verify': {},
          arc: { seal: { domain: 'pochta.test', selector: 'arc1', keyFile: 'arc.pem' } },
          dmarc: {},
          'capture-remote': { module: CAPTURE, dir: 'outbox' },
          maildir: {},
        },
      },
      setup: async (dir) => {
        await addUser(dir, 'carol@pochta.test', 'carol password');
        await writeFile(path.join(dir, 'arc.pem'), pem(sealKey.privateKey));
      },
    });
    outDir = path.join(t.dataDir, 'outbox');
  });
  after(async () => {
    await t.close();
    await dns.close();
  });

  const nextHop = (raw: string) => authenticate(Buffer.from(raw, 'latin1'), {
    ip: '192.0.2.25', helo: 'mail.example.net', sender: 'bounce@pochta.test', mta: 'mx.external.test',
    resolver: mailauthResolver(createResolver({ servers: [dns.server], timeoutMs: 2000 })), disableBimi: true,
  });
  const captured = async (subject: string) => waitFor(async () => {
    for (const f of await readdir(outDir).catch(() => [])) {
      const raw = await readFile(path.join(outDir, f), 'latin1');
      if (raw.includes(`Subject: ${subject}\r\n`)) return raw;
    }
    return undefined;
  }, 15_000, `forwarded ${subject}`);

  test('mail forwarded to an external address carries an ARC set the next hop validates', async () => {
    const raw = await signMessage(message('alice@pass.test', 'forward me'), [{ domain: 'pass.test', selector: 'rsa1', key: keys.rsa.privateKey }]);
    await send({ port: t.port('mx'), from: 'alice@pass.test', to: ['team@pochta.test'], raw });
    const out = await captured('forward me').catch((err: Error) => {
      throw new Error(`${err.message}; log: ${JSON.stringify(t.logs.filter((l) => l.level >= 40 || /outbound|arc|delivery/.test(String(l.event))).slice(-8))}`);
    });
    assert.match(out, /^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none; d=pochta\.test; s=arc1;/m);
    assert.match(out, /^ARC-Authentication-Results: i=1; mail\.example\.net;/m);
    const res = await nextHop(out);
    assert.equal(res.arc && res.arc.status.result, 'pass', JSON.stringify(res.arc && res.arc.status));
    const aar = (res.arc && res.arc.authenticationResults) as { mta?: string; spf?: { result?: string }; dmarc?: { result?: string } } | undefined;
    assert.equal(aar?.mta, ID);
    assert.equal(aar?.spf?.result, 'pass');
    assert.equal(aar?.dmarc?.result, 'pass');
    // The original signature still verifies: forwarding changed no signed byte.
    assert.equal(res.dkim.results[0]?.status.result, 'pass');
    // The local copy of the same message has our A-R but no ARC set (it is not forwarded).
    const local = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('forward me')), 10_000, 'local copy');
    assert.equal(authResultsFields(local).length, 1);
  });

  test('an arriving valid chain is reported arc=pass and extended with i=2 cv=pass', async () => {
    const signed = await signMessage(message('alice@pass.test', 'via list'), [{ domain: 'pass.test', selector: 'ed1', key: keys.ed.privateKey }]);
    const set = await sealMessage(Buffer.from(signed), {
      signingDomain: 'lists.test', selector: 'arc9', privateKey: pem(listKey.privateKey),
      authResults: 'mx.lists.test; dkim=pass header.d=pass.test', cv: 'none',
    } as unknown as Parameters<typeof sealMessage>[1]);
    assert.match(set.toString(), /^ARC-Seal: i=1;/);
    await send({ port: t.port('mx'), from: 'alice@pass.test', to: ['team@pochta.test'], raw: set.toString('latin1') + signed });
    const local = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('via list')), 10_000, 'local copy');
    assert.match(authResultsFields(local)[0], /arc=pass \(i=1 dkim=pass\)/);
    const out = await captured('via list');
    assert.match(out, /^ARC-Seal: i=2; a=rsa-sha256; t=\d+; cv=pass; d=pochta\.test; s=arc1;/m);
    const res = await nextHop(out);
    assert.equal(res.arc && res.arc.status.result, 'pass', JSON.stringify(res.arc && res.arc.status));
    assert.equal(res.arc && res.arc.i, 2);
  });

  test('a broken arriving chain is arc=fail and the forwarded copy is sealed with cv=fail', async () => {
    const signed = await signMessage(message('alice@pass.test', 'broken chain'), [{ domain: 'pass.test', selector: 'rsa1', key: keys.rsa.privateKey }]);
    const set = (await sealMessage(Buffer.from(signed), {
      signingDomain: 'lists.test', selector: 'arc9', privateKey: pem(listKey.privateKey),
      authResults: 'mx.lists.test; dkim=pass', cv: 'none',
    } as unknown as Parameters<typeof sealMessage>[1])).toString('latin1');
    // Change the sealed ARC-Authentication-Results: the seal no longer verifies.
    await send({ port: t.port('mx'), from: 'alice@pass.test', to: ['team@pochta.test'], raw: set.replace('dkim=pass', 'dkim=fail') + signed });
    const local = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('broken chain')), 10_000, 'local copy');
    assert.match(authResultsFields(local)[0], /arc=fail/);
    const out = await captured('broken chain');
    assert.match(out, /^ARC-Seal: i=2; a=rsa-sha256; t=\d+; cv=fail;/m);
  });
});
