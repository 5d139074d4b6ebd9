import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MaildirStore } from './maildir-store.ts';
import { tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';

async function setup(t: Parameters<typeof tempRoot>[0]) {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => store.close());
  return { root, store, home: path.join(root, 'example.test', 'alice') };
}

test('a new mailbox has INBOX and the subscribed special-use folders (RFC 6154)', async (t) => {
  const { store, home } = await setup(t);
  const folders = await store.listFolders(ALICE);
  assert.deepEqual(
    folders.map((f) => [f.name, f.specialUse ?? null, f.subscribed]),
    [['INBOX', null, false], ['Archive', '\\Archive', true], ['Drafts', '\\Drafts', true], ['Junk', '\\Junk', true], ['Sent', '\\Sent', true], ['Trash', '\\Trash', true]],
  );
  for (const dir of ['cur', 'new', 'tmp', '.Sent/cur', '.Sent/maildirfolder']) await fsp.stat(path.join(home, dir));
  assert.equal(await fsp.readFile(path.join(home, 'subscriptions'), 'utf8'), 'Sent\nDrafts\nJunk\nTrash\nArchive\n');
});

test('create, rename (with inferiors and subscriptions), delete', async (t) => {
  const { store, home } = await setup(t);
  await store.createFolder(ALICE, 'Work');
  await store.createFolder(ALICE, 'Work.2024');
  await store.subscribe(ALICE, 'Work.2024');
  await store.append(ALICE, 'Work.2024', Buffer.from('x\r\n'));
  await assert.rejects(store.createFolder(ALICE, 'Work'), { code: 'ALREADYEXISTS' });
  await assert.rejects(store.createFolder(ALICE, 'inbox'), { code: 'ALREADYEXISTS' });
  const listed = await store.listFolders(ALICE);
  assert.equal(listed.find((f) => f.name === 'Work')?.hasChildren, true);
  assert.equal(listed.find((f) => f.name === 'Work.2024')?.hasChildren, false);

  const before = await store.status(ALICE, 'Work.2024');
  await store.renameFolder(ALICE, 'Work', 'Jobs');
  const names = (await store.listFolders(ALICE)).map((f) => f.name);
  assert.ok(names.includes('Jobs') && names.includes('Jobs.2024') && !names.includes('Work'));
  assert.ok((await store.listFolders(ALICE)).find((f) => f.name === 'Jobs.2024')?.subscribed);
  assert.deepEqual(await store.status(ALICE, 'Jobs.2024'), before, 'messages and UIDs move with the folder');
  await assert.rejects(store.renameFolder(ALICE, 'Jobs', 'Jobs.sub'), { code: 'CANNOT' });
  await assert.rejects(store.renameFolder(ALICE, 'Jobs', 'Sent'), { code: 'ALREADYEXISTS' });
  await assert.rejects(store.renameFolder(ALICE, 'Nope', 'Other'), { code: 'NONEXISTENT' });

  await store.deleteFolder(ALICE, 'Jobs');
  const after = await store.listFolders(ALICE);
  assert.ok(!after.some((f) => f.name === 'Jobs'));
  assert.ok(after.some((f) => f.name === 'Jobs.2024'), 'inferiors survive DELETE (RFC 3501 §6.3.4)');
  await assert.rejects(store.deleteFolder(ALICE, 'INBOX'), { code: 'CANNOT' });
  await assert.rejects(store.deleteFolder(ALICE, 'Jobs'), { code: 'NONEXISTENT' });
  assert.ok(!(await fsp.readdir(home)).some((e) => e.startsWith('..')), 'no scratch directories left');

  await store.unsubscribe(ALICE, 'Jobs.2024');
  assert.equal((await store.listFolders(ALICE)).find((f) => f.name === 'Jobs.2024')?.subscribed, false);
  await store.subscribe(ALICE, 'Ghost');
  const ghost = (await store.listFolders(ALICE)).find((f) => f.name === 'Ghost');
  assert.deepEqual([ghost?.exists, ghost?.subscribed], [false, true]);
});

test('renaming INBOX moves its messages into the new folder and leaves INBOX empty (RFC 3501 §6.3.5)', async (t) => {
  const { store } = await setup(t);
  await store.append(ALICE, 'INBOX', Buffer.from('one\r\n'));
  await store.append(ALICE, 'INBOX', Buffer.from('two\r\n'));
  await store.renameFolder(ALICE, 'INBOX', 'Old');
  assert.equal((await store.status(ALICE, 'INBOX')).messages, 0);
  assert.equal((await store.status(ALICE, 'Old')).messages, 2);
});

test('a deleted and re-created folder gets a new UIDVALIDITY', async (t) => {
  const { store } = await setup(t);
  await store.createFolder(ALICE, 'Tmp');
  const first = await store.status(ALICE, 'Tmp');
  await store.deleteFolder(ALICE, 'Tmp');
  await store.createFolder(ALICE, 'Tmp');
  const second = await store.status(ALICE, 'Tmp');
  assert.ok(second.uidValidity > first.uidValidity);
});

test('client-supplied names never reach outside the store root', async (t) => {
  // The store root sits alone in a private directory, so "outside" is observable without racing
  // other tests that create files in the shared temp directory.
  const outside = await tempRoot(t);
  const root = path.join(outside, 'store');
  const store = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => store.close());
  await store.listFolders(ALICE);
  const before = await fsp.readdir(outside);
  const attempts = ['../x', 'a/../../b', '.', '..', '../../../../tmp/evil', 'a\u0000b', 'a\rb', 'a\nb', '.hidden', '/abs'];
  for (const name of attempts) {
    await assert.rejects(store.createFolder(ALICE, name), { code: 'CANNOT' }, name);
    await assert.rejects(store.append(ALICE, name, Buffer.from('x'), { create: true }), { code: 'CANNOT' }, name);
    await assert.rejects(store.open(ALICE, name), { code: 'CANNOT' }, name);
    await assert.rejects(store.renameFolder(ALICE, 'Sent', name), { code: 'CANNOT' }, name);
    await assert.rejects(store.subscribe(ALICE, name), { code: 'CANNOT' }, name);
  }
  for (const user of ['../../x@example.test', 'x@../../etc', 'a/b@example.test']) {
    await assert.rejects(store.listFolders(user), { code: 'CANNOT' }, user);
  }
  assert.deepEqual(await fsp.readdir(outside), before);
  assert.deepEqual(before, ['store']);
  assert.deepEqual(await fsp.readdir(root), ['example.test']);
  await assert.rejects(fsp.stat('/tmp/evil'), { code: 'ENOENT' });
});
