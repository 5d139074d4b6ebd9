import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { authResultsFields, generateTestKeys, message, signMessage, testZone, type TestKeys } from '../../core/auth-results/test-support.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser } from '../../test/helpers/mail.ts';
import { mxMailbox } from '../../test/helpers/policy-server.ts';

describe('dkim-verify end to end', () => {
  let dns: TestDnsServer;
  let keys: TestKeys;
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    keys = generateTestKeys();
    dns = await startDnsServer({ ...testZone(keys), 'gone._domainkey.pass.test': { silent: true } });
    t = await startTestServer({
      config: {
        hostname: 'mail.example.net',
        dns: { servers: [dns.server], timeoutMs: 2000 }, // roomy: a loaded CI machine must not turn answers into temperrors
        plugins: {
          'auth-file': {},
          'local-domains': { domains: ['pochta.test'] },
          spf: {},
          'dkim-verify': { failAction: 'quarantine', temperrorAction: 'tempfail', maxSignatures: 2 },
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

  test('failAction quarantine: a signature broken in transit sends the message to Junk', async () => {
    const signed = await signMessage(message('x@none.test', 'broken sig'), [{ domain: 'pass.test', selector: 'rsa1', key: keys.rsa.privateKey }]);
    await deliver('x@none.test', signed.replace('Hello broken sig.', 'Hello changed.'));
    const junk = await find('broken sig', 'Junk');
    assert.match(authResultsFields(junk)[0], /dkim=fail \(body hash did not verify\) header\.d=pass\.test header\.s=rsa1/);
  });

  test('temperrorAction tempfail: a key lookup that times out gives 451 4.7.20', async () => {
    const signed = await signMessage(message('x@none.test', 'slow key'), [{ domain: 'pass.test', selector: 'gone', key: keys.rsa.privateKey }]);
    await assert.rejects(deliver('x@none.test', signed), /451 4\.7\.20 No passing DKIM signature found \(pass\.test\)/);
  });

  test('more signatures than maxSignatures: dkim=permerror, and DMARC still judges the From domain', async () => {
    const junk = 'DKIM-Signature: v=1; a=rsa-sha256; d=x.test; s=a; h=from; bh=AA==; b=AA==\r\n';
    await assert.rejects(deliver('x@fail.test', junk.repeat(3) + message('ceo@reject.test', 'many sigs')), /550 5\.7\.1 .*reject\.test \(p=reject\)/);
    await deliver('x@none.test', junk.repeat(3) + message('x@none.test', 'many sigs ok'));
    assert.match(authResultsFields(await find('many sigs ok'))[0], /dkim=permerror \(too many signatures\)/);
  });
});
