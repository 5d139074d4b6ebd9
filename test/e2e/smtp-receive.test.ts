import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';

const PLUGINS = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} };

/** Exactly one enhanced status code after the reply code, on every line (RFC 2034 §4). */
function assertOneEnhanced(reply: string) {
  for (const line of reply.split('\r\n')) {
    const m = /^\d{3}[ -](.*)$/.exec(line);
    assert.ok(m, `malformed reply line ${JSON.stringify(line)}`);
    assert.equal((m[1].match(/\b[245]\.\d{1,3}\.\d{1,3}\b/g) ?? []).length <= 1, true, `more than one enhanced code: ${line}`);
  }
}

describe('SMTP receive end to end', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({ config: { smtp: { maxMessageSize: 64 * 1024, maxRecipients: 5, maxConnectionsPerIp: 100 }, plugins: PLUGINS },
      setup: async (dir) => {
        await addUser(dir, 'alice@pochta.test', 'correct horse battery');
        await addUser(dir, 'bob@pochta.test', 'bob password 1');
      },
    });
  });
  after(async () => t.close());

  test('a message to a local user lands in the Maildir with its body intact and a Received header', async () => {
    const body = 'Subject: intact\r\nMessage-ID: <intact@client.test>\r\n\r\nline one\r\n.leading dot\r\n..two dots\r\n\u00e9t\u00e9 8-bit\r\n' + 'x'.repeat(900) + '\r\nlast\r\n';
    const r = await send({ port: t.port('mx'), from: 'sender@elsewhere.test', to: ['alice@pochta.test'], raw: Buffer.from(body, 'latin1') });
    assert.match(r.response, /^250 2\.0\.0 Ok: delivered as [0-9A-Z]{20}$/, 'every recipient local: delivered before the 250');
    const msgs = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).filter((m) => m.includes('<intact@client.test>')).at(0), 10_000, 'delivery');
    const sep = msgs.indexOf('Subject: intact');
    assert.ok(sep > 0);
    assert.equal(msgs.slice(sep), body, 'body bytes (with dot-stuffed lines) round-trip');
    const top = msgs.slice(0, sep);
    assert.match(top, /^Return-Path: <sender@elsewhere\.test>\r\n/m);
    assert.match(top, /^Delivered-To: alice@pochta\.test\r\n/m);
    assert.match(top, /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mail\.example\.net with ESMTP id [0-9A-Z]{20}\r\n\tfor <alice@pochta\.test>;/m);
  });

  test('the greeting and replies name no software and carry exactly one enhanced code', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    const greeting = await d.reply();
    assert.match(greeting, /^220 mail\.example\.net ESMTP$/);
    const ehlo = await d.cmd('EHLO client.test');
    for (const kw of ['PIPELINING', 'SIZE 65536', '8BITMIME', 'SMTPUTF8', 'ENHANCEDSTATUSCODES', 'STARTTLS', 'DSN']) assert.match(ehlo, new RegExp(`^250[ -]${kw}$`, 'm'));
    assert.doesNotMatch(ehlo, /AUTH/, 'no AUTH on the MX listener');
    const replies = [ehlo,
      await d.cmd('MAIL FROM:<a@elsewhere.test>'),
      await d.cmd('RCPT TO:<nobody@pochta.test>'),
      await d.cmd('RCPT TO:<x@remote.test>'),
      await d.cmd('VRFY alice'),
      await d.cmd('HELP'),
      await d.cmd('WIZ'),
      await d.cmd('RSET'),
      await d.cmd('QUIT')];
    for (const r of [greeting, ...replies]) {
      assertOneEnhanced(r);
      assert.doesNotMatch(r, /smtp-server|nodemailer|pochta|node\.?js|haraka/i);
    }
    assert.match(replies[2], /^550 5\.1\.1 /);
    assert.match(replies[3], /^550 5\.7\.1 /);
    assert.match(replies[6], /^500 /);
    d.close();
  });

  test('open relay refused: an unauthenticated client cannot send to another domain', async () => {
    await assert.rejects(send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['victim@remote.test'], raw: 'Subject: x\r\n\r\nx\r\n' }), /550 5\.7\.1 Relaying denied/);
    // Submission without AUTH cannot relay either: MAIL needs AUTH there.
    const d = await Dialogue.connect(t.port('submission'));
    await d.reply();
    await d.cmd('EHLO client.test');
    await d.startTls();
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd('MAIL FROM:<a@elsewhere.test>'), /^530 /);
    d.close();
  });

  test('unknown local user gets 550 5.1.1', async () => {
    await assert.rejects(send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['ghost@pochta.test'], raw: 'Subject: x\r\n\r\nx\r\n' }), /550 5\.1\.1/);
  });

  test('oversized: SIZE= over the limit and an actual oversized body both get 552 5.3.4', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd('MAIL FROM:<a@elsewhere.test> SIZE=100000'), /^552 5\.3\.4 /);
    d.close();
    const big = 'Subject: big\r\n\r\n' + ('y'.repeat(76) + '\r\n').repeat(1200);
    await assert.rejects(send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['bob@pochta.test'], raw: big }), /552 5\.3\.4/);
    assert.equal((await readInbox(t.dataDir, 'bob@pochta.test')).filter((m) => m.includes('Subject: big')).length, 0);
  });

  test('too many recipients get 452 4.5.3; a line over 998 octets gets 550 5.5.2', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    await d.cmd('MAIL FROM:<a@elsewhere.test>');
    for (let i = 0; i < 5; i++) assert.match(await d.cmd(`RCPT TO:<alice+${i}@pochta.test>`), /^250 /);
    assert.match(await d.cmd('RCPT TO:<bob@pochta.test>'), /^452 4\.5\.3 /);
    await d.cmd('RSET');
    await d.cmd('MAIL FROM:<a@elsewhere.test>');
    await d.cmd('RCPT TO:<bob@pochta.test>');
    assert.match(await d.cmd('DATA'), /^354 /);
    d.write('Subject: long\r\n\r\n' + 'z'.repeat(1200) + '\r\n.\r\n');
    assert.match(await d.reply(), /^550 5\.5\.2 .*longer than 998/);
    d.close();
  });

  test('pipelined commands are answered in order', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    d.write('MAIL FROM:<p@elsewhere.test>\r\nRCPT TO:<alice@pochta.test>\r\nRCPT TO:<nobody@pochta.test>\r\nRCPT TO:<bob@pochta.test>\r\nDATA\r\n');
    assert.match(await d.reply(), /^250 /);
    assert.match(await d.reply(), /^250 /);
    assert.match(await d.reply(), /^550 5\.1\.1 /);
    assert.match(await d.reply(), /^250 /);
    assert.match(await d.reply(), /^354 /);
    d.write('Subject: piped\r\nMessage-ID: <piped@client.test>\r\n\r\nhi\r\n.\r\nQUIT\r\n');
    assert.match(await d.reply(), /^250 2\.0\.0 /);
    assert.match(await d.reply(), /^221 /);
    await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).some((m) => m.includes('<piped@client.test>')), 10_000, 'piped delivery');
    await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).some((m) => m.includes('<piped@client.test>')), 10_000, 'piped delivery');
    d.close();
  });

  for (const [name, payload] of [
    ['\\n.\\n', 'body\n.\nMAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<bob@pochta.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n'],
    ['\\r\\n.\\n', 'body\r\n.\nMAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<bob@pochta.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n'],
    ['\\n.\\r\\n', 'body\n.\r\nMAIL FROM:<smuggled@evil.test>\r\nRCPT TO:<bob@pochta.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n.\r\n'],
  ] as const) {
    test(`SMTP smuggling probe ${name} never splits one message into two (rejected 550 5.5.2)`, async () => {
      const before = (await readInbox(t.dataDir, 'bob@pochta.test')).length;
      const d = await Dialogue.connect(t.port('mx'));
      await d.reply();
      await d.cmd('EHLO client.test');
      await d.cmd('MAIL FROM:<a@elsewhere.test>');
      await d.cmd('RCPT TO:<bob@pochta.test>');
      assert.match(await d.cmd('DATA'), /^354 /);
      d.write(`Subject: probe\r\n\r\n${payload}`);
      // The whole thing is one DATA: one reply for it, and no reply to the smuggled commands.
      // Only CRLF.CRLF ends DATA: whatever the probe, the rest is content up to the real end,
      // and the bare line ending gets the whole message refused.
      assert.match(await d.reply(), /^550 5\.5\.2 /);
      assert.match(await d.cmd('NOOP'), /^250 /, 'no smuggled command left pending');
      d.close();
      await new Promise((res) => setTimeout(res, 200));
      const msgs = await readInbox(t.dataDir, 'bob@pochta.test');
      assert.equal(msgs.length, before, 'nothing delivered');
      assert.equal(msgs.filter((m) => m.includes('smuggled')).length, 0);
    });
  }

  test('50 concurrent senders are each delivered exactly once', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => `<c${i}.${Date.now()}@client.test>`);
    const results = await Promise.all(ids.map((id, i) => send({
      port: t.port('mx'), from: `s${i}@elsewhere.test`, to: ['alice@pochta.test'],
      raw: `Subject: concurrent ${i}\r\nMessage-ID: ${id}\r\n\r\nbody ${i}\r\n`,
    })));
    assert.equal(results.filter((r) => r.response.startsWith('250')).length, 50);
    const inbox = await waitFor(async () => {
      const m = await readInbox(t.dataDir, 'alice@pochta.test');
      return ids.every((id) => m.some((x) => x.includes(id))) ? m : undefined;
    }, 20_000, '50 deliveries');
    for (const id of ids) assert.equal(inbox.filter((m) => m.includes(`Message-ID: ${id}`)).length, 1, `${id} exactly once`);
  });

  test('each transaction is logged on one line with envelope, outcome, timings and queue id, never a password', async () => {
    await send({ port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' }, from: 'alice@pochta.test', to: ['bob@pochta.test'], raw: 'Subject: logged\r\n\r\nx\r\n' });
    const line = await waitFor(() => t.logs.find((l) => l.event === 'smtp.transaction' && l.user === 'alice@pochta.test'), 5000, 'log line');
    assert.ok(line.queueId);
    assert.equal(line.from, 'alice@pochta.test');
    assert.deepEqual(line.rcpt, ['bob@pochta.test']);
    assert.equal(line.outcome, 'delivered');
    // Delivered before the 250: reported on this line, not on a line of its own.
    assert.deepEqual(line.delivered.map((d: { rcpt: string; user: string }) => [d.rcpt, d.user]), [['bob@pochta.test', 'bob@pochta.test']]);
    assert.ok(!t.logs.some((l) => l.event === 'delivery.delivered' && l.queueId === line.queueId), 'no separate delivery line');
    assert.ok(Array.isArray(line.timings) && line.timings.some((x: string) => x.startsWith('smtp.rcptTo:local-domains')));
    assert.equal(JSON.stringify(t.logs).includes('correct horse battery'), false);
  });
});
