import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authResultsFields, generateTestKeys, message, signMessage, testZone, type TestKeys } from '../../core/auth-results/test-support.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox } from '../../test/helpers/mail.ts';
import { mxMailbox } from '../../test/helpers/policy-server.ts';

const ID = 'mail.example.net';

describe('spf + dkim-verify + arc + dmarc end to end, default actions', () => {
  let dns: TestDnsServer;
  let keys: TestKeys;
  let t: Awaited<ReturnType<typeof startTestServer>>;

  before(async () => {
    keys = generateTestKeys();
    dns = await startDnsServer(testZone(keys));
    t = await startTestServer({
      config: {
        hostname: ID,
        dns: { servers: [dns.server], timeoutMs: 2000 }, // roomy: a loaded CI machine must not turn answers into temperrors
        plugins: {
          'auth-file': {},
          'local-domains': { domains: ['pochta.test'] },
          spf: {},
          'dkim-verify': {},
          arc: {},
          dmarc: {},
          maildir: {},
        },
      },
      setup: (dir) => addUser(dir, 'carol@pochta.test', 'carol password'),
    });
  });
  after(async () => {
    await t.close();
    await dns.close();
  });

  const { deliver, find } = mxMailbox(() => t, 'carol@pochta.test');

  test('signed, aligned mail: one Authentication-Results with every result; forged ours removed, foreign kept', async () => {
    const forged = `Authentication-Results: ${ID.toUpperCase()}; dkim=pass header.d=paypal.example\r\nAuthentication-Results:\r\n  (folded) ${ID};\r\n  spf=pass\r\nAuthentication-Results: other.example; spf=fail smtp.mailfrom=x@pass.test\r\n`;
    const raw = await signMessage(message('Alice <alice@pass.test>', 'good one', forged), [
      { domain: 'pass.test', selector: 'rsa1', key: keys.rsa.privateKey },
      { domain: 'pass.test', selector: 'ed1', key: keys.ed.privateKey },
    ]);
    await deliver('alice@pass.test', raw);
    const got = await find('good one');
    const ar = authResultsFields(got);
    const ours = ar.filter((v) => v.toLowerCase().startsWith(`${ID};`) || v.toLowerCase().includes(`) ${ID};`));
    assert.equal(ours.length, 1, `one field of ours, got ${JSON.stringify(ar)}`);
    assert.ok(ar.includes('other.example; spf=fail smtp.mailfrom=x@pass.test'), 'a foreign field stays');
    assert.equal(ar.length, 2);
    const v = ours[0];
    assert.match(v, /^mail\.example\.net; spf=pass .*smtp\.mailfrom=alice@pass\.test;/);
    assert.match(v, /dkim=pass header\.d=pass\.test header\.s=rsa1 header\.a=rsa-sha256 header\.b=\S{8};/);
    assert.match(v, /dkim=pass header\.d=pass\.test header\.s=ed1 header\.a=ed25519-sha256 header\.b=\S{8};/);
    assert.match(v, /arc=none;/);
    assert.match(v, /dmarc=pass \(p=REJECT\) header\.from=pass\.test$/);
    assert.doesNotMatch(got, /paypal\.example|\(folded\)/);
    // The field sits above the message's own headers, after the delivery trace.
    assert.ok(got.indexOf('Authentication-Results: mail.example.net;') < got.indexOf('Received: from'));
  });

  test('DMARC p=reject, not aligned: 550 5.7.1 naming the policy, nothing delivered', async () => {
    await assert.rejects(deliver('bounce@fail.test', message('ceo@reject.test', 'forged ceo')), /550 5\.7\.1 .*DMARC policy of reject\.test \(p=reject\)/);
  });

  test('DMARC pass through SPF alone (unsigned, MAIL FROM in the From domain)', async () => {
    await deliver('news@reject.test', message('news@reject.test', 'spf aligned'));
    const [v] = authResultsFields(await find('spf aligned'));
    assert.match(v, /spf=pass/);
    assert.match(v, /dkim=none \(message not signed\)/);
    assert.match(v, /dmarc=pass .*header\.from=reject\.test/);
  });

  test('DMARC p=quarantine, not aligned: delivered into Junk', async () => {
    await deliver('x@fail.test', message('x@quar.test', 'quarantined one'));
    const junk = await find('quarantined one', 'Junk');
    assert.match(authResultsFields(junk)[0], /spf=fail .*dmarc=fail \(p=QUARANTINE\) header\.from=quar\.test/);
    assert.equal((await readInbox(t.dataDir, 'carol@pochta.test')).some((m) => m.includes('quarantined one')), false);
  });

  test('DMARC p=none: delivered to INBOX, dmarc=fail recorded', async () => {
    await deliver('x@soft.test', message('x@none.test', 'monitored one'));
    const [v] = authResultsFields(await find('monitored one'));
    assert.match(v, /spf=softfail/);
    assert.match(v, /dmarc=fail \(p=NONE\) header\.from=none\.test/);
  });

  test('pct=0 turns p=reject into quarantine (RFC 7489 §6.6.4)', async () => {
    await deliver('x@fail.test', message('x@pct0.test', 'sampled out'));
    const junk = await find('sampled out', 'Junk');
    assert.match(authResultsFields(junk)[0], /dmarc=fail \(p=REJECT pct=0 applied=QUARANTINE\)/);
  });

  test('strict SPF alignment (aspf=s): a subdomain MAIL FROM does not align', async () => {
    await assert.rejects(deliver('bounce@mail.strict.test', message('x@strict.test', 'strict one')), /550 5\.7\.1 .*strict\.test \(p=reject\)/);
  });

  test('a forged DKIM signature (body changed after signing) is dkim=fail, and DMARC rejects', async () => {
    const signed = await signMessage(message('alice@pass.test', 'tampered'), [{ domain: 'pass.test', selector: 'rsa1', key: keys.rsa.privateKey }]);
    await assert.rejects(deliver('x@fail.test', signed.replace('Hello tampered.', 'Send money.')), /550 5\.7\.1 .*pass\.test \(p=reject\)/);
  });

  test('DNS timeout: spf=temperror and dmarc=temperror recorded, message accepted by default', async () => {
    await deliver('x@slow.test', message('x@slow.test', 'slow dns'));
    const [v] = authResultsFields(await find('slow dns'));
    assert.match(v, /spf=temperror/);
    assert.match(v, /dmarc=temperror/);
  });
});
