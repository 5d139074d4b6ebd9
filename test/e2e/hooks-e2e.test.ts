import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';

const POLICY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'policy-plugin.ts');

describe('hooks end to end', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({
      config: {
        plugins: {
          policy: { module: POLICY, timeoutMs: 300 },
          'auth-file': {},
          'local-domains': { domains: ['pochta.test'] },
          maildir: {},
        },
      },
      setup: async (dir) => {
        await addUser(dir, 'carol@pochta.test', 'carol password');
      },
    });
  });
  after(async () => t.close());

  test('a HELO refused by a plugin gets its reply with one enhanced code', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    assert.equal(await d.cmd('EHLO bad.example'), '550 5.7.1 HELO name refused');
    assert.match(await d.cmd('EHLO good.example'), /^250-/);
    d.close();
  });

  test('a plugin that throws gives 451 4.3.0, and one that hangs is cut off at its budget', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd('MAIL FROM:<throw@elsewhere.test>'), /^451 4\.3\.0 /);
    // The reply itself says the budget cut the hanging tap off (no wall-clock assertion: shared machines).
    assert.match(await d.cmd('MAIL FROM:<hang@elsewhere.test>'), /^451 4\.3\.0 .*timed out/);
    assert.match(await d.cmd('MAIL FROM:<fine@elsewhere.test>'), /^250 /, 'the session goes on');
    d.close();
    assert.ok(t.logs.some((l) => l.event === 'hook.error' && l.plugin === 'policy'));
    assert.ok(t.logs.some((l) => l.event === 'hook.timeout' && l.plugin === 'policy'));
    assert.ok(t.server.metrics.get('hook_errors_total', { hook: 'smtp.mailFrom', plugin: 'policy' }) >= 1);
  });

  test('smtp.data can refuse before the 354', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    await d.cmd('MAIL FROM:<nodata@elsewhere.test>');
    assert.match(await d.cmd('RCPT TO:<carol@pochta.test>'), /^250 /);
    assert.equal(await d.cmd('DATA'), '451 4.3.0 Not now');
    d.close();
  });

  test('message verdicts: reject, quarantine into Junk, discard; header edits applied at delivery', async () => {
    await assert.rejects(send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['carol@pochta.test'], raw: 'Subject: [refuse] x\r\n\r\nx\r\n' }), /550 5\.7\.1 Content refused/);
    await send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['carol@pochta.test'], raw: 'Subject: [junk] buy now\r\nX-Remove-Me: secret\r\n\tcontinued\r\n\r\nspam\r\n' });
    await send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['carol@pochta.test'], raw: 'Subject: [drop] gone\r\n\r\nx\r\n' });
    await send({ port: t.port('mx'), from: 'a@elsewhere.test', to: ['carol@pochta.test'], raw: 'Subject: normal\r\nX-Remove-Me: y\r\n\r\nhello\r\n' });
    const junk = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test', 'Junk')).find((m) => m.includes('buy now')), 10_000, 'junk delivery');
    assert.match(junk, /^X-Policy: seen [0-9A-Z]{20}\r\n/m);
    assert.doesNotMatch(junk, /X-Remove-Me|continued/);
    const inbox = await waitFor(async () => (await readInbox(t.dataDir, 'carol@pochta.test')).find((m) => m.includes('Subject: normal')), 10_000, 'inbox delivery');
    assert.doesNotMatch(inbox, /X-Remove-Me/);
    assert.match(inbox, /\r\n\r\nhello\r\n$/);
    const all = await readInbox(t.dataDir, 'carol@pochta.test');
    assert.equal(all.some((m) => m.includes('[drop]') || m.includes('[refuse]') || m.includes('buy now')), false);
    // Nothing is left in the spool: delivered ones are removed, refused and discarded ones never stay.
    await waitFor(async () => (await readdir(path.join(t.dataDir, 'queue'))).length === 0, 10_000, 'empty spool');
  });
});

describe('connection limits and timeouts', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({
      config: {
        smtp: {
          maxConnectionsPerIp: 2,
          idleTimeoutMs: 1500,
          commandTimeoutMs: 1000,
          listeners: { slow: { kind: 'mx', host: '127.0.0.1', port: 0, greetingDelayMs: 400 } },
        },
        plugins: {},
      },
    });
  });
  after(async () => t.close());

  test('connections over the per-IP limit get 421 4.7.0 and are closed', async () => {
    const a = await Dialogue.connect(t.port('mx'));
    const b = await Dialogue.connect(t.port('mx'));
    assert.match(await a.reply(), /^220 /);
    assert.match(await b.reply(), /^220 /);
    const c = await Dialogue.connect(t.port('mx'));
    assert.match(await c.reply(), /^421 4\.7\.0 /);
    assert.equal(await c.waitClosed(), true);
    a.close();
    b.close();
    await new Promise((r) => setTimeout(r, 100));
    const d = await Dialogue.connect(t.port('mx'));
    assert.match(await d.reply(), /^220 /, 'slots are freed on close');
    d.close();
  });

  test('an early talker on a listener with a greeting delay is refused', async () => {
    const d = await Dialogue.connect(t.port('slow'));
    d.write('EHLO impatient.test\r\n');
    assert.match(await d.reply(), /^421 /);
    assert.equal(await d.waitClosed(), true);
    const ok = await Dialogue.connect(t.port('slow'));
    assert.match(await ok.reply(), /^220 /);
    ok.close();
  });

  test('an idle client is disconnected', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    assert.equal(await d.waitClosed(8000), true);
  });

  test('a client trickling a command byte by byte is cut off by the command timeout', async () => {
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    const line = 'EHLO a-very-slow-client.example.test';
    let i = 0;
    const drip = setInterval(() => { if (i < line.length) d.write(line[i++]); }, 150);
    try {
      assert.match(await d.reply(8000), /^421 4\.4\.2 /);
      assert.equal(await d.waitClosed(), true);
    } finally {
      clearInterval(drip);
    }
  });
});

describe('total connection limit', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({ config: { smtp: { maxConnections: 2, maxConnectionsPerIp: 100 }, plugins: {} } });
  });
  after(async () => t.close());

  test('connections over smtp.maxConnections (all listeners together) get 421 4.7.0', async () => {
    const a = await Dialogue.connect(t.port('mx'));
    const b = await Dialogue.connect(t.port('submission'));
    assert.match(await a.reply(), /^220 /);
    assert.match(await b.reply(), /^220 /);
    const c = await Dialogue.connect(t.port('mx'));
    assert.match(await c.reply(), /^421 4\.7\.0 Too many connections/);
    assert.equal(await c.waitClosed(), true);
    a.close();
    b.close();
  });
});
