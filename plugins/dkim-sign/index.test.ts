import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsp } from 'node:dns';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { authenticate } from 'mailauth';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { dnsRecord, generateSigningKey, parseSigningKey } from './keys.ts';

const POLICY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'policy-plugin.ts');
const RSA = generateSigningKey('rsa');
const ED = generateSigningKey('ed25519');
const resolver = new dnsp.Resolver({ timeout: 2000, tries: 2 });

async function verify(message: string) {
  const res = await authenticate(Buffer.from(message, 'latin1'), {
    ip: '192.0.2.1', helo: 'mail.pochta.test', sender: 'alice@pochta.test', mta: 'mx.remote.test',
    resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT'),
    disableArc: true, disableBimi: true, disableDmarc: true,
  });
  return res.dkim.results.map((r) => `${r.signingDomain}/${r.selector} ${r.status.result}`);
}

describe('dkim-sign in a running server', () => {
  let dns: TestDnsServer;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    dns = await startDnsServer({
      'rsa1._domainkey.pochta.test': { TXT: [dnsRecord(parseSigningKey(RSA, 'rsa-sha256', 'rsa'))] },
      'ed1._domainkey.pochta.test': { TXT: [dnsRecord(parseSigningKey(ED, 'ed25519-sha256', 'ed'))] },
    });
    resolver.setServers([dns.server]);
    t = await startTestServer({
      config: {
        hostname: 'mail.pochta.test',
        plugins: {
          'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {},
          policy: { module: POLICY },
          'dkim-sign': { domains: { 'pochta.test': [{ selector: 'rsa1' }, { selector: 'ed1', algorithm: 'ed25519-sha256', keyFile: 'keys/ed.pem' }] } },
        },
      },
      setup: async (dir) => {
        await addUser(dir, 'alice@pochta.test', 'correct horse battery');
        await addUser(dir, 'bob@pochta.test', 'correct horse battery');
        await mkdir(path.join(dir, 'dkim'), { recursive: true });
        await mkdir(path.join(dir, 'keys'), { recursive: true });
        await writeFile(path.join(dir, 'dkim', 'pochta.test.rsa1.key'), RSA, { mode: 0o600 });
        await writeFile(path.join(dir, 'keys', 'ed.pem'), ED, { mode: 0o600 });
      },
    });
  });
  after(async () => {
    await t.close();
    await dns.close();
  });

  test('an authenticated submission is signed over the delivered bytes (header edits included); both signatures pass', async () => {
    await send({
      port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' },
      from: 'alice@pochta.test', to: ['bob@pochta.test'],
      raw: 'From: Alice <alice@pochta.test>\r\nTo: bob@pochta.test\r\nSubject: signed\r\nMessage-ID: <dkim-1@pochta.test>\r\nX-Remove-Me: yes\r\n\r\nHi Bob.\r\n',
    });
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<dkim-1@pochta.test>')), 10_000, 'delivery');
    assert.match(m, /^X-Policy: seen /m, 'a header another plugin added is there');
    assert.doesNotMatch(m, /X-Remove-Me/, 'the removed one is gone');
    assert.equal(m.match(/^DKIM-Signature: /gm)?.length, 2);
    assert.match(m, /d=pochta\.test; s=rsa1;/);
    assert.deepEqual(await verify(m), ['pochta.test/rsa1 pass', 'pochta.test/ed1 pass']);
    assert.ok((await verify(m.replace('Hi Bob.', 'Hi Rob.'))).every((r) => !r.endsWith(' pass')), 'a tampered body does not pass');
  });

  test('mail from outside (port 25, not authenticated) is not signed', async () => {
    await send({ port: t.port('mx'), from: 'someone@remote.test', to: ['bob@pochta.test'], raw: 'From: someone@pochta.test\r\nSubject: inbound\r\nMessage-ID: <dkim-2@pochta.test>\r\n\r\nx\r\n' });
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<dkim-2@pochta.test>')), 10_000, 'delivery');
    assert.doesNotMatch(m, /DKIM-Signature/);
  });

  test('mail the server writes itself (internal submission) is signed by the parent domain of its host name', async () => {
    await t.server.submit({ mailFrom: '', recipients: ['alice@pochta.test'], body: 'From: MAILER-DAEMON@mail.pochta.test\r\nTo: alice@pochta.test\r\nSubject: report\r\nMessage-ID: <dkim-3@pochta.test>\r\n\r\nreport\r\n' });
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((x) => x.includes('<dkim-3@pochta.test>')), 10_000, 'delivery');
    assert.deepEqual(await verify(m), ['pochta.test/rsa1 pass', 'pochta.test/ed1 pass']);
  });
});
