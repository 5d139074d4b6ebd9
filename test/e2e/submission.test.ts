import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';

const PLUGINS = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} };

describe('submission', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({ config: { plugins: PLUGINS },
      setup: async (dir) => {
        await addUser(dir, 'alice@pochta.test', 'correct horse battery');
      },
    });
  });
  after(async () => t.close());

  test('AUTH is not offered before TLS, is offered after STARTTLS, and AUTH before TLS is refused', async () => {
    const d = await Dialogue.connect(t.port('submission'));
    assert.match(await d.reply(), /^220 /);
    const plain = await d.cmd('EHLO client.test');
    assert.doesNotMatch(plain, /AUTH/);
    assert.match(plain, /^250[ -]STARTTLS$/m);
    assert.match(await d.cmd('AUTH PLAIN ' + Buffer.from('\0alice@pochta.test\0correct horse battery').toString('base64')), /^5\d\d /);
    assert.match(await d.startTls(), /^220 /);
    const secure = await d.cmd('EHLO client.test');
    assert.match(secure, /^250[ -]AUTH PLAIN LOGIN$/m);
    assert.doesNotMatch(secure, /STARTTLS/);
    assert.match(await d.cmd('AUTH PLAIN ' + Buffer.from('\0alice@pochta.test\0correct horse battery').toString('base64')), /^235 2\.7\.0 /);
    d.close();
  });

  test('good credentials over STARTTLS: mail is accepted and delivered', async () => {
    const r = await send({ port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' }, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: 'Subject: sub ok\r\nMessage-ID: <sub-ok@client.test>\r\n\r\nhello\r\n' });
    assert.match(r.response, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((x) => x.includes('<sub-ok@client.test>')), 10_000, 'delivery');
    assert.match(m, /with ESMTPSA id /);
  });

  test('implicit TLS (submissions) with LOGIN works', async () => {
    const r = await send({ port: t.port('submissions'), secure: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery', method: 'LOGIN' }, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: 'Subject: s465\r\n\r\nhello\r\n' });
    assert.ok(t.logs.some((l) => l.event === 'auth.ok' && l.mechanism === 'LOGIN'), JSON.stringify(t.logs.filter((l) => String(l.event).startsWith('auth')).map((l) => [l.event, l.mechanism])));
    assert.match(r.response, /^250 /);
  });

  test('bad credentials get 535 5.7.8', async () => {
    await assert.rejects(send({ port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'wrong' }, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: 'x' }), /535 5\.7\.8/);
    await assert.rejects(send({ port: t.port('submission'), starttls: true, auth: { user: 'nobody@pochta.test', pass: 'wrong' }, from: 'a@pochta.test', to: ['alice@pochta.test'], raw: 'x' }), /535 5\.7\.8/);
  });

  test('an authenticated user may relay; with no remote delivery configured the answer is a clear 451 4.3.5', async () => {
    await assert.rejects(send({ port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' }, from: 'alice@pochta.test', to: ['someone@remote.test'], raw: 'Subject: out\r\n\r\nx\r\n' }), /451 4\.3\.5/);
  });
});
