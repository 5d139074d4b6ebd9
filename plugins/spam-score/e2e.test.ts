import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';
import { queueForLearning } from './cli.ts';
import { flow } from '../../core/imap/test-support.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const FIXTURES = path.join(here, '..', '..', 'test', 'fixtures', 'mail');
const PROBE = path.join(here, '..', '..', 'test', 'fixtures', 'evidence-plugin.ts');

async function fixtureFiles(kind: 'spam' | 'ham'): Promise<string[]> {
  return (await readdir(path.join(FIXTURES, kind))).sort().map((n) => path.join(FIXTURES, kind, n));
}

function message(id: string, subject: string, body: string, extra = ''): string {
  return `From: sender@elsewhere.test\r\nTo: bob@pochta.test\r\nSubject: ${subject}\r\nDate: Fri, 27 Nov 2026 09:00:00 +0000\r\nMessage-ID: <${id}@client.test>\r\n${extra}\r\n${body}\r\n`;
}

describe('spam-score end to end', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({
      config: {
        plugins: {
          'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {},
          probe: { module: PROBE },
          'spam-score': { bayes: { minLearned: 3 }, learnPollMs: 100, outbound: { holdAfter: 2 } },
        },
      },
      setup: async (dir) => {
        await addUser(dir, 'bob@pochta.test', 'correct horse battery');
        await addUser(dir, 'mallory@pochta.test', 'correct horse battery');
      },
    });
    // Train through the same path an admin uses: files queued by the CLI, learned by the server.
    const learnDir = path.join(t.dataDir, 'spam-score', 'learn');
    await queueForLearning(learnDir, 'spam', (await fixtureFiles('spam')).slice(0, 6));
    await queueForLearning(learnDir, 'ham', (await fixtureFiles('ham')).slice(0, 6));
    await waitFor(() => t.logs.filter((l) => l.event === 'spam-score.learned').length >= 12, 20_000, 'learning');
  });
  after(async () => t.close());

  const mx = (raw: string, to = ['bob@pochta.test']) => send({ port: t.port('mx'), from: 'sender@elsewhere.test', to, raw });

  test('an unseen spam message is recognised by the classifier, tagged and (over the quarantine score) put into Junk', async () => {
    const spam = await readFile((await fixtureFiles('spam'))[6], 'latin1');
    // Rules + Bayes bring it to at least the tag threshold; the probe pushes it into quarantine range.
    const raw = spam.replace('Message-ID: <spam6@fixtures.test>', 'Message-ID: <unseen-spam@client.test>\r\nX-Test-Evidence: 3');
    assert.match((await mx(raw)).response, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test', 'Junk')).find((x) => x.includes('<unseen-spam@client.test>')), 10_000, 'junk delivery');
    const status = m.match(/^X-Spam-Status: (.*(?:\r\n\t.*)*)/m)?.[1]?.replace(/\r\n\t/g, '') ?? '';
    assert.match(status, /^Yes, score=\d+\.\d required=5\.0 tests=/);
    assert.match(status, /BAYES_\d+\(3\.5\)/);
    assert.match(status, /PROBE_LIST_LISTED\(3\.0\)/);
    assert.match(m, /^X-Spam-Score: \d+\.\d\r$/m);
  });

  test('an unseen ham message is delivered to the inbox with X-Spam-Status: No and a negative Bayes symbol', async () => {
    const ham = await readFile((await fixtureFiles('ham'))[6], 'latin1');
    const raw = ham.replace('Message-ID: <ham6@fixtures.test>', 'Message-ID: <unseen-ham@client.test>');
    assert.match((await mx(raw)).response, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<unseen-ham@client.test>')), 10_000, 'delivery');
    assert.match(m, /^X-Spam-Status: No, score=-?\d+\.\d required=5\.0 tests=.*BAYES_\d\d\(-/m);
  });

  test('forged X-Spam headers from the sender are removed; ours are the only ones', async () => {
    const raw = message('forged', 'hello', 'plain note about the meeting agenda', 'X-Spam-Status: No, score=-100\r\nX-Spam-Score: -100\r\n');
    assert.match((await mx(raw)).response, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<forged@client.test>')), 10_000, 'delivery');
    assert.equal(m.match(/^X-Spam-Status:/gm)?.length, 1);
    assert.doesNotMatch(m, /score=-100/);
  });

  test('a score over the reject threshold gets 550 5.7.1 and is not delivered', async () => {
    const raw = message('rejected', 'hello', 'plain text', 'X-Test-Evidence: 20\r\n');
    await assert.rejects(mx(raw), (err: Error & { response?: string }) => /^550 5\.7\.1 Message refused as spam \(score \d+\.\d\)/.test(err.response ?? ''));
    const all = [...(await readInbox(t.dataDir, 'bob@pochta.test')), ...(await readInbox(t.dataDir, 'bob@pochta.test', 'Junk'))];
    assert.ok(!all.some((x) => x.includes('<rejected@client.test>')));
  });

  test('a user filing a message into Junk over IMAP teaches spam; filing it back out teaches ham', async () => {
    assert.match((await mx(message('filed', 'quarterly numbers', 'see the attached figures for the board'))).response, /^250 /);
    await waitFor(async () => (await readInbox(t.dataDir, 'bob@pochta.test')).find((x) => x.includes('<filed@client.test>')), 10_000, 'delivery');
    const learned = () => t.logs.filter((l) => l.event === 'spam-score.learned' && l.source === 'filing');
    assert.equal(learned().length, 0, 'a delivery teaches nothing');
    const imap = await flow(t.port('imap'), 'bob@pochta.test', 'correct horse battery');
    try {
      let lock = await imap.getMailboxLock('INBOX');
      try {
        const found = await imap.search({ header: { 'message-id': '<filed@client.test>' } }, { uid: true });
        assert.ok(found && found.length === 1);
        await imap.messageMove(found, 'Junk', { uid: true });
      } finally {
        lock.release();
      }
      const spam = await waitFor(() => learned().find((l) => l.folder === 'Junk'), 10_000, 'learning from the move into Junk');
      assert.equal(spam.label, 'spam');
      assert.equal(spam.result, 'learned');
      lock = await imap.getMailboxLock('Junk');
      try {
        const found = await imap.search({ header: { 'message-id': '<filed@client.test>' } }, { uid: true });
        assert.ok(found && found.length === 1);
        await imap.messageMove(found, 'INBOX', { uid: true });
      } finally {
        lock.release();
      }
      const ham = await waitFor(() => learned().find((l) => l.folder === 'INBOX'), 10_000, 'learning from the move out of Junk');
      assert.equal(ham.label, 'ham');
      assert.equal(ham.result, 'relearned', 'the earlier spam counts are taken back');
    } finally {
      await imap.logout();
    }
  });

  test('an account that starts sending spam is held: 451 4.7.1 after holdAfter spammy messages, then at MAIL FROM', async () => {
    const auth = { user: 'mallory@pochta.test', pass: 'correct horse battery' };
    const sub = (id: string) => send({ port: t.port('submission'), starttls: true, auth, from: 'mallory@pochta.test', to: ['bob@pochta.test'],
      raw: message(id, 'hello', 'ordinary text', 'X-Test-Evidence: 6\r\n') });
    assert.match((await sub('out1')).response, /^250 /);
    await assert.rejects(sub('out2'), (err: Error & { response?: string }) => /^451 4\.7\.1 Sending from this account is on hold/.test(err.response ?? ''));
    await assert.rejects(sub('out3'), (err: Error & { response?: string }) => /^451 4\.7\.1 /.test(err.response ?? ''));
    assert.ok(t.logs.some((l) => l.event === 'spam-score.account_held' && l.user === 'mallory@pochta.test'));
    // Another user is not affected.
    const ok = await send({ port: t.port('submission'), starttls: true, auth: { user: 'bob@pochta.test', pass: 'correct horse battery' }, from: 'bob@pochta.test', to: ['bob@pochta.test'], raw: message('bob-out', 'hi', 'note') });
    assert.match(ok.response, /^250 /);
  });
});
