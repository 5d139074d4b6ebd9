import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { simpleParser } from 'mailparser';
import { startTestServer } from '../testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { mimeParts, statusBlocks } from './test-support.ts';

const REFUSE = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'refuse-local.ts');
let t: Awaited<ReturnType<typeof startTestServer>>;

before(async () => {
  t = await startTestServer({
    config: {
      plugins: {
        'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] },
        'refuse-local': { module: REFUSE, users: ['full@pochta.test'] }, maildir: {},
      },
    },
    setup: async (dir) => {
      for (const u of ['alice', 'bob', 'full']) await addUser(dir, `${u}@pochta.test`, 'correct horse battery');
    },
  });
});
after(async () => t.close());

test('a recipient that fails for good: the queue reports it, the notice reaches the sender\'s Maildir', async () => {
  const r = await send({
    port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'correct horse battery' },
    from: 'alice@pochta.test', to: ['bob@pochta.test', 'full@pochta.test'],
    raw: 'From: alice@pochta.test\r\nTo: bob@pochta.test, full@pochta.test\r\nSubject: e2e bounce\r\nMessage-ID: <e2e-bounce@pochta.test>\r\n\r\nhello\r\n',
  });
  assert.match(r.response, /^250 /);
  await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((m) => m.includes('<e2e-bounce@pochta.test>')), 10_000, 'bob');
  const raw = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((m) => m.includes('Undelivered Mail Returned to Sender')), 15_000, 'the notice');
  const m = await simpleParser(Buffer.from(raw, 'latin1'));
  assert.equal(m.inReplyTo, '<e2e-bounce@pochta.test>');
  const ct = m.headers.get('content-type') as { params: Record<string, string> };
  const blocks = statusBlocks(mimeParts(raw, ct.params.boundary)[1].body);
  assert.equal(blocks.length, 2, 'one recipient block: bob was delivered');
  assert.equal(blocks[1]['final-recipient'], 'rfc822;full@pochta.test');
  assert.equal(blocks[1].action, 'failed');
  assert.match(blocks[1].status, /^5\./);
  assert.match(m.text ?? '', /full@pochta\.test/);
  assert.match(m.text ?? '', /mailbox full/);
});
