import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FolderChange } from '../../core/store/mail-store.ts';
import { MaildirStore } from './maildir-store.ts';
import { tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';
const msg = (n: number): Buffer => Buffer.from(`Subject: ${n}\r\n\r\nbody\r\n`);

function collect(store: MaildirStore, folder: string): FolderChange[] {
  const events: FolderChange[] = [];
  store.watch(ALICE, folder, (c) => events.push(c));
  return events;
}

test('sessions on one folder see each other: added, flags, expunged, with the origin view', async (t) => {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'h' });
  t.after(() => store.close());
  await store.append(ALICE, 'INBOX', msg(1));
  const a = await store.open(ALICE, 'INBOX');
  const b = await store.open(ALICE, 'INBOX');
  const events = collect(store, 'inbox');
  const all: FolderChange[] = [];
  store.watchAll((c) => all.push(c));

  await store.append(ALICE, 'INBOX', msg(2));
  assert.deepEqual(events.at(-1), { user: ALICE, folder: 'INBOX', kind: 'added', uids: [2] });
  assert.deepEqual(b.uids(), [1, 2], 'the shared list already has it');

  const { changed } = await a.setFlags([1], { mode: 'add', flags: ['\\Seen', '\\Deleted'] });
  assert.deepEqual(events.at(-1), { user: ALICE, folder: 'INBOX', kind: 'flags', origin: a.id, changes: changed });

  await a.expunge();
  assert.deepEqual(events.at(-1), { user: ALICE, folder: 'INBOX', kind: 'expunged', origin: a.id, uids: [1] });
  assert.equal(all.length, events.length);

  await b.move([2], 'Trash');
  assert.deepEqual(events.at(-1), { user: ALICE, folder: 'INBOX', kind: 'expunged', origin: b.id, uids: [2] });
  // The destination's event names the view that filed it there: a client move, not a delivery.
  assert.deepEqual(all.at(-1), { user: ALICE, folder: 'Trash', kind: 'added', origin: b.id, uids: [1] });
  await a.close();
  await b.close();
});

test('a listener that throws does not break the change or other listeners', async (t) => {
  const root = await tempRoot(t);
  const errors: unknown[] = [];
  const store = new MaildirStore({ root, hostname: 'h', onListenerError: (e) => errors.push(e) });
  t.after(() => store.close());
  store.watch(ALICE, 'INBOX', () => {
    throw new Error('listener bug');
  });
  const events = collect(store, 'INBOX');
  const off = store.watch(ALICE, 'INBOX', () => assert.fail('unsubscribed'));
  off();
  assert.equal((await store.append(ALICE, 'INBOX', msg(1))).uid, 1);
  assert.equal(events.length, 1);
  assert.equal(errors.length, 1);
});

test('deleting a folder tells its sessions and ends their views', async (t) => {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'h' });
  t.after(() => store.close());
  await store.createFolder(ALICE, 'Gone');
  await store.append(ALICE, 'Gone', msg(1));
  const view = await store.open(ALICE, 'Gone');
  const events = collect(store, 'Gone');
  await store.deleteFolder(ALICE, 'Gone');
  assert.deepEqual(events, [{ user: ALICE, folder: 'Gone', kind: 'deleted' }]);
  await assert.rejects(view.setFlags([1], { mode: 'add', flags: ['\\Seen'] }), { code: 'NONEXISTENT' });
  await view.close();
  await assert.rejects(store.open(ALICE, 'Gone'), { code: 'NONEXISTENT' });
});

test('another process: its journaled changes reach this store through notifyExternal', async (t) => {
  const root = await tempRoot(t);
  const here = new MaildirStore({ root, hostname: 'node-a' });
  const there = new MaildirStore({ root, hostname: 'node-b' });
  t.after(() => Promise.all([here.close(), there.close()]).then(() => undefined));
  // Relay: what `there` does is announced to `here`, as a kv pub/sub would.
  there.watchAll((change) => void here.notifyExternal(change));

  await here.append(ALICE, 'INBOX', msg(1));
  const view = await here.open(ALICE, 'INBOX');
  const events = collect(here, 'INBOX');

  const delivered = await there.append(ALICE, 'INBOX', msg(2));
  assert.equal(delivered.uid, 2, 'UIDs continue across processes through the shared index');
  await waitFor(() => events.length > 0);
  assert.deepEqual(events[0], { user: ALICE, folder: 'INBOX', kind: 'added', uids: [2], external: true });
  assert.deepEqual(view.uids(), [1, 2]);

  const remote = await there.open(ALICE, 'INBOX');
  await remote.setFlags([1], { mode: 'add', flags: ['\\Flagged'] });
  await waitFor(() => events.some((e) => e.kind === 'flags'));
  assert.deepEqual(view.get(1)?.flags, ['\\Flagged']);

  // And the other way round without a relay: a view refresh reads the journal.
  await view.setFlags([2], { mode: 'add', flags: ['\\Seen'] });
  await remote.refresh();
  assert.deepEqual(remote.get(2)?.flags, ['\\Seen']);
  await view.close();
  await remote.close();
});

async function waitFor(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !predicate(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(predicate(), 'condition not reached');
}
