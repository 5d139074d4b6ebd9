import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../testing/server-harness.ts';
import { addUser, readInbox, waitFor } from '../../test/helpers/mail.ts';
import { SubmitError } from './types.ts';

const POLICY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'test', 'fixtures', 'policy-plugin.ts');
const PLUGINS = {
  'relay-acl': {}, 'auth-file': {}, aliases: { aliases: { 'sales@pochta.test': ['bob@pochta.test'] } },
  'local-domains': { domains: ['pochta.test'] }, maildir: {}, policy: { module: POLICY },
};

for (const inline of [true, false]) {
  describe(`internal submission (inlineDelivery ${inline})`, () => {
    let t: Awaited<ReturnType<typeof startTestServer>>;
    before(async () => {
      t = await startTestServer({
        config: { plugins: PLUGINS, queue: { inlineDelivery: inline } },
        setup: async (dir) => {
          await addUser(dir, 'alice@pochta.test', 'correct horse battery');
          await addUser(dir, 'bob@pochta.test', 'correct horse battery');
        },
      });
    });
    after(async () => t.close());

    test('local recipient: through the hooks into the Maildir, with a Received trace and the message-hook header', async () => {
      const r = await t.server.submit({ mailFrom: '', recipients: ['alice@pochta.test'], body: 'Subject: internal one\r\nMessage-ID: <int-1@x>\r\n\r\nbody\r\n' });
      assert.deepEqual(r.accepted, ['alice@pochta.test']);
      assert.deepEqual(r.rejected, []);
      const m = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((x) => x.includes('<int-1@x>')), 10_000, 'delivery');
      assert.match(m, new RegExp(`^X-Policy: seen ${r.queueId}\\r\\n`, 'm'), 'smtp.message ran for internal mail');
      assert.match(m, new RegExp(`^Received: by mail\\.example\\.net id ${r.queueId};\\r\\n\\t`, 'm'));
      assert.match(m, /\r\n\r\nbody\r\n$/);
      const line = t.logs.find((l) => l.event === 'smtp.transaction' && l.queueId === r.queueId);
      assert.ok(line, 'one transaction log line');
      assert.equal(line.user, 'MAILER-DAEMON@mail.example.net');
      assert.equal(line.from, '');
      if (!inline) {
        // Spooled and fsynced before submit resolved; the runner then delivered it and removed the entry.
        assert.equal(line.outcome, 'queued');
        await waitFor(async () => !(await readdir(path.join(t.dataDir, 'queue'))).some((n) => n.startsWith(r.queueId)), 10_000, 'spool entry removed');
      } else assert.equal(line.outcome, 'delivered');
    });

    test('aliases route the recipients; an unknown recipient is listed as refused', async () => {
      const r = await t.server.submit({ mailFrom: '', recipients: ['sales@pochta.test', 'nobody@pochta.test'], body: 'Subject: alias\r\nMessage-ID: <int-2@x>\r\n\r\nhi\r\n' });
      assert.deepEqual(r.accepted, ['sales@pochta.test']);
      assert.equal(r.rejected.length, 1);
      assert.equal(r.rejected[0].address, 'nobody@pochta.test');
      assert.equal(r.rejected[0].reply.code, 550);
      await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<int-2@x>')), 10_000, 'alias delivery');
    });

    test('nothing accepted: SubmitError with the reply; a remote recipient without remote delivery is a temporary refusal', async () => {
      await assert.rejects(t.server.submit({ mailFrom: '', recipients: ['nobody@pochta.test'], body: 'x\r\n' }),
        (e: unknown) => e instanceof SubmitError && e.reply.code === 550 && !e.temporary);
      await assert.rejects(t.server.submit({ mailFrom: '', recipients: ['someone@remote.test'], body: 'x\r\n' }),
        (e: unknown) => e instanceof SubmitError && e.reply.code === 451 && e.reply.enhanced === '4.3.5' && e.temporary);
    });

    test('a message-stage refusal is a SubmitError, and nothing is left in the spool', async () => {
      const bodies = async () => (await readdir(path.join(t.dataDir, 'queue'))).filter((n) => n.endsWith('.msg'));
      const before = new Set(await bodies());
      // A body big enough to be spilled to a spool file before the refusal.
      await assert.rejects(t.server.submit({ mailFrom: '', recipients: ['alice@pochta.test'], body: `Subject: [refuse] me\r\n\r\n${'y'.repeat(200)}\r\n`.repeat(1000) }),
        (e: unknown) => e instanceof SubmitError && e.reply.code === 550 && /Content refused/.test(e.reply.text));
      // Entries of earlier tests may still be there (being delivered); no new one is.
      assert.deepEqual((await bodies()).filter((n) => !before.has(n)), []);
    });

    test('a large body is streamed (spilled to the spool file) and arrives intact', async () => {
      const line = 'x'.repeat(998) + '\r\n';
      const n = 3000; // ~3 MB, far above queue.memoryBodyBytes
      async function* gen() {
        yield Buffer.from('Subject: big\r\nMessage-ID: <int-big@x>\r\n\r\n');
        for (let i = 0; i < n; i++) yield Buffer.from(line);
      }
      const r = await t.server.submit({ mailFrom: '', recipients: ['bob@pochta.test'], body: Readable.from(gen()) });
      const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<int-big@x>')), 20_000, 'big delivery');
      assert.equal(m.split(line).length - 1, n);
      assert.ok(r.queueId);
    });
  });
}
