import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startRedis, type TestRedis } from '../../core/testing/redis-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { owns, ownership } from './owner.ts';

const PASS = 'correct horse battery';
const BASE = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} };
type Server = Awaited<ReturnType<typeof startTestServer>>;

async function server(limits: Record<string, unknown>, extra: Record<string, unknown> = {}, dataDir?: string): Promise<Server> {
  return startTestServer({
    config: { plugins: { ...BASE, 'submission-limits': limits }, ...extra },
    ...(dataDir ? { dataDir } : {}),
    setup: async (dir) => {
      if (dataDir) return;
      for (const u of ['alice', 'bob', 'carol']) await addUser(dir, `${u}@pochta.test`, PASS);
    },
  });
}

/** An authenticated submission session on port 587 (STARTTLS, AUTH PLAIN), ready for MAIL FROM. */
async function session(t: Server, user: string): Promise<Dialogue> {
  const d = await Dialogue.connect(t.port('submission'));
  await d.reply();
  await d.cmd('EHLO client.test');
  await d.startTls();
  await d.cmd('EHLO client.test');
  assert.match(await d.cmd('AUTH PLAIN ' + Buffer.from(`\0${user}\0${PASS}`).toString('base64')), /^235 /);
  return d;
}

const msg = (from: string, id: string) => `From: ${from}\r\nTo: bob@pochta.test\r\nSubject: t\r\nMessage-ID: <${id}@pochta.test>\r\n\r\nhi\r\n`;
const submit = (t: Server, user: string, from: string, to: string[], raw: string) =>
  send({ port: t.port('submission'), starttls: true, auth: { user, pass: PASS }, from, to, raw });

describe('sender ownership', () => {
  let t: Server;
  before(async () => {
    t = await server({ owners: { 'alice@pochta.test': ['sales@pochta.test', '@shop.pochta.test'] } });
  });
  after(async () => t.close());

  test('a forged envelope sender gets 553 5.7.1; own, tagged and granted addresses pass', async () => {
    const d = await session(t, 'alice@pochta.test');
    assert.match(await d.cmd('MAIL FROM:<bob@pochta.test>'), /^553 5\.7\.1 /);
    for (const ok of ['alice@pochta.test', 'Alice+news@POCHTA.test', 'sales@pochta.test', 'anyone@shop.pochta.test', '']) {
      assert.match(await d.cmd(`MAIL FROM:<${ok}>`), /^250 /, ok);
      await d.cmd('RSET');
    }
    d.close();
  });

  test('a forged From header gets 550 5.7.1 at the end of DATA; an owned one is delivered', async () => {
    await assert.rejects(submit(t, 'alice@pochta.test', 'alice@pochta.test', ['bob@pochta.test'], msg('Bob <bob@pochta.test>', 'forged-1')), /550 5\.7\.1/);
    await assert.rejects(submit(t, 'alice@pochta.test', 'alice@pochta.test', ['bob@pochta.test'], msg('alice@pochta.test, bob@pochta.test', 'forged-2')), /550 5\.7\.1/);
    await submit(t, 'alice@pochta.test', 'sales@pochta.test', ['bob@pochta.test'], msg('Sales <sales@pochta.test>', 'owned-1'));
    await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((m) => m.includes('<owned-1@pochta.test>')), 10_000, 'delivery');
    assert.equal((await readInbox(t.dataDir, 'bob@pochta.test')).some((m) => m.includes('forged-')), false);
  });

  test('mail from outside (port 25) and the server\'s own mail are not checked', async () => {
    await send({ port: t.port('mx'), from: 'someone@remote.test', to: ['bob@pochta.test'], raw: msg('someone@remote.test', 'inbound-1') });
    await t.server.submit({ mailFrom: '', recipients: ['bob@pochta.test'], body: msg('MAILER-DAEMON@mail.example.net', 'internal-1') });
    for (const id of ['inbound-1', 'internal-1']) await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((m) => m.includes(`<${id}@pochta.test>`)), 10_000, id);
  });
});

describe('hourly limits', () => {
  let t: Server;
  before(async () => {
    t = await server({ perUser: { messages: 3, recipients: 4 }, perIp: { messages: 5, recipients: 100 }, exempt: ['carol@pochta.test'] });
  });
  after(async () => t.close());

  test('a user over the message limit gets 451 4.7.1 at MAIL FROM, and the admin log gets one line', async () => {
    for (let i = 0; i < 3; i++) await submit(t, 'alice@pochta.test', 'alice@pochta.test', ['bob@pochta.test'], msg('alice@pochta.test', `lim-${i}`));
    const d = await session(t, 'alice@pochta.test');
    assert.match(await d.cmd('MAIL FROM:<alice@pochta.test>'), /^451 4\.7\.1 Hourly message limit reached/);
    assert.match(await d.cmd('MAIL FROM:<alice@pochta.test>'), /^451 4\.7\.1 /);
    d.close();
    const lines = t.logs.filter((l) => l.event === 'submission.limit');
    assert.equal(lines.length, 1, JSON.stringify(lines));
    assert.equal(lines[0].level, 40, 'warn');
    assert.equal(lines[0].user, 'alice@pochta.test');
    assert.equal(lines[0].limit, 'user-messages');
    // Another user is not affected; an exempt one never is.
    await submit(t, 'bob@pochta.test', 'bob@pochta.test', ['alice@pochta.test'], msg('bob@pochta.test', 'lim-bob'));
  });

  test('the per-IP limit covers several accounts on one client address; exempt users are not counted', async () => {
    // alice used 3 of the 5 messages of 127.0.0.1 (refused attempts are not counted), bob 1.
    for (let i = 0; i < 3; i++) await submit(t, 'carol@pochta.test', 'carol@pochta.test', ['bob@pochta.test'], msg('carol@pochta.test', `exempt-${i}`));
    await submit(t, 'bob@pochta.test', 'bob@pochta.test', ['alice@pochta.test'], msg('bob@pochta.test', 'ip-1'));
    const d = await session(t, 'bob@pochta.test');
    assert.match(await d.cmd('MAIL FROM:<bob@pochta.test>'), /^451 4\.7\.1 /);
    d.close();
    assert.ok(t.logs.some((l) => l.event === 'submission.limit' && l.limit === 'ip-messages' && l.ip === '127.0.0.1'));
  });
});

describe('recipient limits', () => {
  let t: Server;
  before(async () => {
    t = await server({ perUser: { messages: 100, recipients: 3 } });
  });
  after(async () => t.close());

  test('recipients past the limit get 451 4.7.1 one by one; the accepted ones are delivered', async () => {
    const d = await session(t, 'alice@pochta.test');
    assert.match(await d.cmd('MAIL FROM:<alice@pochta.test>'), /^250 /);
    for (const r of ['bob', 'carol', 'alice']) assert.match(await d.cmd(`RCPT TO:<${r}@pochta.test>`), /^250 /);
    assert.match(await d.cmd('RCPT TO:<bob@pochta.test>'), /^451 4\.7\.1 Hourly recipient limit reached/);
    assert.match(await d.cmd('DATA'), /^354 /);
    assert.match(await d.cmd(`${msg('alice@pochta.test', 'rcpt-limit')}.`), /^250 /);
    d.close();
    await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('<rcpt-limit@pochta.test>')), 10_000, 'delivery');
  });
});

describe('shared counters in Redis: two nodes count together', () => {
  let redis: TestRedis;
  let a: Server;
  let b: Server;
  before(async () => {
    redis = await startRedis();
    const kv = { kv: { redis: { url: redis.url, prefix: `limits-${process.pid}:` } } };
    a = await server({ perUser: { messages: 2, recipients: 100 } }, kv);
    b = await server({ perUser: { messages: 2, recipients: 100 } }, kv, a.dataDir);
  });
  after(async () => {
    await b?.close(true);
    await a?.close();
    await redis?.stop();
  });

  test('one message on each node, then the third is refused on either', async () => {
    await submit(a, 'alice@pochta.test', 'alice@pochta.test', ['bob@pochta.test'], msg('alice@pochta.test', 'node-a'));
    await submit(b, 'alice@pochta.test', 'alice@pochta.test', ['bob@pochta.test'], msg('alice@pochta.test', 'node-b'));
    for (const t of [a, b]) {
      const d = await session(t, 'alice@pochta.test');
      assert.match(await d.cmd('MAIL FROM:<alice@pochta.test>'), /^451 4\.7\.1 /);
      d.close();
    }
  });
});

test('ownership rules', () => {
  const o = ownership({ 'Alice@Pochta.test': ['Sales@pochta.test', '@shop.test'] }, '+');
  assert.equal(owns(o, 'alice@pochta.test', 'ALICE@pochta.test'), true);
  assert.equal(owns(o, 'alice@pochta.test', 'alice+x@pochta.test'), true);
  assert.equal(owns(o, 'alice@pochta.test', 'sales+x@pochta.test'), true);
  assert.equal(owns(o, 'alice@pochta.test', 'x@shop.test'), true);
  assert.equal(owns(o, 'alice@pochta.test', 'x@sub.shop.test'), false);
  assert.equal(owns(o, 'alice@pochta.test', 'bob@pochta.test'), false);
  assert.equal(owns(o, 'alice@pochta.test', 'alice@pochta.test.evil'), false);
  assert.equal(owns(o, 'alice@pochta.test', ''), true);
  assert.equal(owns(o, 'bob@pochta.test', 'sales@pochta.test'), false);
});
