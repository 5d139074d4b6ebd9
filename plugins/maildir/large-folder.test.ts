import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MaildirStore } from './maildir-store.ts';
import { recordingFs, tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';
const COUNT = 10_000;

test('a 10,000-message folder re-opens from its index without touching a message file', async (t) => {
  const root = await tempRoot(t);
  const inbox = path.join(root, 'example.test', 'alice');
  const first = new MaildirStore({ root, hostname: 'h' });
  t.after(() => first.close());
  await first.listFolders(ALICE); // creates the mailbox
  // Another tool filled the folder: names carry the size, flags vary.
  const body = Buffer.from('Subject: bulk\r\n\r\nx\r\n');
  for (let i = 0; i < COUNT; i += 500) {
    await Promise.all(
      Array.from({ length: 500 }, (_, j) => {
        const n = i + j;
        const name = `${1_600_000_000 + n}.M${n}P1Q${n}.bulk,S=${body.length}:2,${n % 3 === 0 ? 'S' : ''}`;
        return fsp.writeFile(path.join(inbox, 'cur', name), body);
      }),
    );
  }
  const scanned = await first.open(ALICE, 'INBOX');
  assert.equal(scanned.uids().length, COUNT);
  const expected = scanned.messages({ from: 5000, limit: 3 });
  await scanned.close();
  await first.close();

  const { fs, calls } = recordingFs();
  const second = new MaildirStore({ root, hostname: 'h', fs });
  t.after(() => second.close());
  const view = await second.open(ALICE, 'INBOX');
  const status = view.status();
  assert.equal(status.messages, COUNT);
  assert.equal(status.unseen, COUNT - Math.ceil(COUNT / 3));
  assert.deepEqual(view.messages({ from: 5000, limit: 3 }), expected, 'paged listing by UID');

  const messageFiles = calls.filter((c) => /[/\\](cur|new)[/\\]./.test(c.path));
  assert.deepEqual(messageFiles, [], 'no stat/open/read of individual messages');
  assert.ok(calls.some((c) => c.op === 'open' && c.path.endsWith('pochta-uidlist')), 'the index snapshot is read');
  assert.equal(calls.filter((c) => c.op === 'readdir' && /[/\\](cur|new)$/.test(c.path)).length, 2, 'one listing of new/ and cur/');

  // A command on the open folder works from memory: no rescan, no index re-read.
  calls.length = 0;
  view.messages({ from: 1, limit: 100 });
  view.status();
  await view.setFlags([42], { mode: 'add', flags: ['\\Flagged'] });
  const reread = calls.filter((c) => c.op === 'readdir' || (c.op === 'open' && c.path.endsWith('pochta-uidlist')));
  assert.deepEqual(reread, [], 'only the journal tail is checked (one stat, one open)');
  await view.close();
});
