import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { FolderChange } from '../../core/store/mail-store.ts';
import { MaildirStore } from './maildir-store.ts';
import { streamText, tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';
const msg = (n: number | string): Buffer => Buffer.from(`Subject: ${n}\r\n\r\nbody ${n}\r\n`);

async function setup(t: Parameters<typeof tempRoot>[0]) {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => store.close());
  return { root, store, inbox: path.join(root, 'example.test', 'alice') };
}

test('append gives ascending UIDs; a view lists and reads them byte-exact', async (t) => {
  const { store, root } = await setup(t);
  const date = new Date('2021-06-01T12:00:00Z');
  const a = await store.append(ALICE, 'INBOX', msg(1));
  const spool = path.join(root, 'spool');
  await fsp.writeFile(spool, msg(2));
  const b = await store.append(ALICE, 'inbox', { prefix: Buffer.from('Delivered-To: alice@example.test\r\n'), path: spool });
  const c = await store.append(ALICE, 'INBOX', { stream: (async function* () { yield msg(3); })() }, { flags: ['\\Seen', 'work'], internalDate: date });
  assert.deepEqual([a.uid, b.uid, c.uid], [1, 2, 3]);
  assert.equal(a.uidValidity, c.uidValidity);

  const view = await store.open(ALICE, 'INBOX');
  assert.deepEqual(view.uids(), [1, 2, 3]);
  const third = view.get(3);
  assert.deepEqual(third?.flags, ['\\Seen', 'work']);
  assert.equal(third?.internalDate.getTime(), date.getTime());
  assert.equal(third?.size, msg(3).length);
  assert.deepEqual(await streamText(await view.read(1)), msg(1));
  assert.equal((await streamText(await view.read(2))).toString(), `Delivered-To: alice@example.test\r\n${msg(2).toString()}`);
  assert.equal((await streamText(await view.read(1, { start: 9, end: 10 }))).toString(), '1');
  assert.equal((await streamText(await view.read(1, { start: 5, end: 5 }))).length, 0);
  assert.deepEqual(view.messages({ from: 2, limit: 1 }).map((m) => m.uid), [2]);
  assert.deepEqual(view.messages({ from: 2, to: 2 }).map((m) => m.uid), [2]);
  assert.deepEqual(view.status(), { messages: 3, recent: 0, unseen: 2, uidNext: 4, uidValidity: a.uidValidity, highestModseq: view.status().highestModseq });
  await view.close();
});

test('\\Recent goes to the first read-write view, which moves the file from new/ to cur/', async (t) => {
  const { store, inbox } = await setup(t);
  await store.append(ALICE, 'INBOX', msg(1));
  assert.equal((await store.status(ALICE, 'INBOX')).recent, 1);
  assert.equal((await fsp.readdir(path.join(inbox, 'new'))).length, 1);
  const examine = await store.open(ALICE, 'INBOX', { readOnly: true });
  assert.equal(examine.isRecent(1), false);
  const first = await store.open(ALICE, 'INBOX');
  const second = await store.open(ALICE, 'INBOX');
  assert.equal(first.isRecent(1), true);
  assert.equal(second.isRecent(1), false);
  assert.deepEqual(await fsp.readdir(path.join(inbox, 'new')), []);
  assert.match((await fsp.readdir(path.join(inbox, 'cur')))[0] ?? '', /:2,$/);
  await assert.rejects(examine.setFlags([1], { mode: 'add', flags: ['\\Seen'] }), { code: 'NOPERM' });
  for (const v of [examine, first, second]) await v.close();
  await assert.rejects(async () => first.uids(), { code: 'CANNOT' });
});

test('flags ↔ file name suffix, keywords in dovecot-keywords, modseq and UNCHANGEDSINCE', async (t) => {
  const { store, inbox } = await setup(t);
  await store.append(ALICE, 'INBOX', msg(1));
  await store.append(ALICE, 'INBOX', msg(2));
  const view = await store.open(ALICE, 'INBOX');
  const before = view.status().highestModseq;

  const r1 = await view.setFlags([1, 2], { mode: 'add', flags: ['\\seen', '\\Flagged', '$Forwarded', 'Project-X'] });
  assert.deepEqual(r1.changed.map((c) => c.uid), [1, 2]);
  assert.ok(r1.changed.every((c) => c.modseq > before));
  assert.deepEqual(view.get(1)?.flags, ['\\Flagged', '\\Seen', '$Forwarded', 'Project-X']);
  const cur = await fsp.readdir(path.join(inbox, 'cur'));
  assert.ok(cur.every((n) => n.endsWith(':2,FPSa')), cur.join(' '));
  assert.equal(await fsp.readFile(path.join(inbox, 'dovecot-keywords'), 'utf8'), '0 Project-X\n');

  const modseq1 = view.get(1)?.modseq ?? 0;
  const r2 = await view.setFlags([1], { mode: 'remove', flags: ['project-x', '\\Flagged'] });
  assert.deepEqual(r2.changed[0]?.flags, ['\\Seen', '$Forwarded']);
  assert.ok((view.get(1)?.modseq ?? 0) > modseq1);

  // RFC 7162 §3.1.3: message 1 changed after `modseq1`, so it is reported MODIFIED and left alone.
  const r3 = await view.setFlags([1, 2], { mode: 'set', flags: ['\\Answered'], unchangedSince: modseq1 });
  assert.deepEqual(r3.modified, [1]);
  assert.deepEqual(r3.changed.map((c) => c.uid), [2]);
  assert.deepEqual(view.get(2)?.flags, ['\\Answered']);

  const none = await view.setFlags([2], { mode: 'add', flags: ['\\Answered'] });
  assert.deepEqual(none.changed, [], 'no change, no new modseq');
  await assert.rejects(view.setFlags([1], { mode: 'add', flags: ['\\Recent'] }), { code: 'CANNOT' });
  await view.close();
});

test('more than 26 keywords in one folder is a LIMIT error', async (t) => {
  const { store } = await setup(t);
  await store.append(ALICE, 'INBOX', msg(1));
  const view = await store.open(ALICE, 'INBOX');
  await view.setFlags([1], { mode: 'add', flags: Array.from({ length: 26 }, (_, i) => `k${i}`) });
  assert.equal(view.get(1)?.flags.length, 26);
  await assert.rejects(view.setFlags([1], { mode: 'add', flags: ['one-too-many'] }), { code: 'LIMIT' });
  await view.close();
});

test('UIDs, flags and UIDVALIDITY are stable across a re-open by a new store', async (t) => {
  const { store, root } = await setup(t);
  for (let i = 1; i <= 5; i++) await store.append(ALICE, 'INBOX', msg(i), { flags: i % 2 ? ['\\Seen'] : [] });
  const view = await store.open(ALICE, 'INBOX');
  await view.setFlags([3], { mode: 'add', flags: ['\\Deleted'] });
  assert.deepEqual(await view.expunge(), [3]);
  const expected = view.messages();
  const status = view.status();
  await view.close();
  await store.close();

  const again = new MaildirStore({ root, hostname: 'other.example.test' });
  t.after(() => again.close());
  const reopened = await again.open(ALICE, 'INBOX');
  assert.deepEqual(reopened.messages(), expected);
  assert.deepEqual(reopened.status(), { ...status, recent: 0 });
  assert.equal((await again.append(ALICE, 'INBOX', msg(6))).uid, 6, 'UIDs are never reused (RFC 3501 §2.3.1.1)');
  await reopened.close();
});

test('files dropped or changed by another tool are picked up on refresh, with new UIDs', async (t) => {
  const { store, inbox } = await setup(t);
  await store.append(ALICE, 'INBOX', msg(1));
  const view = await store.open(ALICE, 'INBOX');
  const events: FolderChange[] = [];
  store.watch(ALICE, 'INBOX', (c) => events.push(c));

  await fsp.writeFile(path.join(inbox, 'new', '1600000000.external1.host'), msg('ext1'));
  await fsp.writeFile(path.join(inbox, 'cur', '1600000001.external2.host:2,FS'), msg('ext2'));
  await fsp.writeFile(path.join(inbox, 'tmp', 'in-progress'), 'partial');
  await view.refresh();
  assert.deepEqual(view.uids(), [1, 2, 3]);
  assert.deepEqual(view.get(3)?.flags, ['\\Flagged', '\\Seen']);
  assert.equal(view.get(2)?.size, msg('ext1').length);
  assert.equal(view.get(2)?.internalDate.getTime(), Math.floor((await fsp.stat(path.join(inbox, 'cur', '1600000000.external1.host:2,'))).mtimeMs));
  assert.ok(view.isRecent(2));
  assert.deepEqual(events, [{ user: ALICE, folder: 'INBOX', kind: 'added', uids: [2, 3] }]);

  // Another tool marks a message read (renames it) and deletes another.
  const modseq = view.get(3)?.modseq ?? 0;
  await fsp.rename(path.join(inbox, 'cur', '1600000001.external2.host:2,FS'), path.join(inbox, 'cur', '1600000001.external2.host:2,RS'));
  await fsp.unlink(path.join(inbox, 'cur', '1600000000.external1.host:2,'));
  events.length = 0;
  await view.refresh();
  assert.deepEqual(view.uids(), [1, 3]);
  assert.deepEqual(view.get(3)?.flags, ['\\Answered', '\\Seen']);
  assert.ok((view.get(3)?.modseq ?? 0) > modseq);
  assert.deepEqual(events.map((e) => e.kind).sort(), ['expunged', 'flags']);
  // Our own change to a file another tool renamed finds the file again.
  await fsp.rename(path.join(inbox, 'cur', '1600000001.external2.host:2,RS'), path.join(inbox, 'cur', '1600000001.external2.host:2,S'));
  await view.setFlags([3], { mode: 'add', flags: ['\\Draft'] });
  assert.deepEqual(await fsp.readdir(path.join(inbox, 'cur')).then((n) => n.filter((x) => x.startsWith('1600000001'))), ['1600000001.external2.host:2,DS']);
  await view.close();
});

test('copy and move return COPYUID data; flags and keywords follow into the destination', async (t) => {
  const { store } = await setup(t);
  await store.append(ALICE, 'Archive', msg('filler'), { flags: ['other'] }); // different keyword slots there
  for (let i = 1; i <= 3; i++) await store.append(ALICE, 'INBOX', msg(i), { flags: ['\\Seen', 'tagged'] });
  const inbox = await store.open(ALICE, 'INBOX');

  const copied = await inbox.copy([1, 3, 99], 'Archive');
  const archiveStatus = await store.status(ALICE, 'Archive');
  assert.equal(copied.uidValidity, archiveStatus.uidValidity);
  assert.deepEqual(copied.sourceUids, [1, 3]);
  assert.deepEqual(copied.destUids, [2, 3]);
  const archive = await store.open(ALICE, 'Archive');
  assert.deepEqual(archive.get(2)?.flags, ['\\Seen', 'tagged']);
  assert.deepEqual(await streamText(await archive.read(3)), msg(3));
  assert.deepEqual(inbox.uids(), [1, 2, 3], 'COPY leaves the source alone');

  const moved = await inbox.move([2, 3], 'Trash');
  assert.deepEqual(moved.sourceUids, [2, 3]);
  assert.deepEqual(moved.destUids, [1, 2]);
  assert.deepEqual(inbox.uids(), [1]);
  const trash = await store.open(ALICE, 'Trash');
  assert.deepEqual(await streamText(await trash.read(1)), msg(2));
  assert.deepEqual(trash.get(2)?.flags, ['\\Seen', 'tagged']);
  await assert.rejects(inbox.copy([1], 'Nope'), { code: 'NONEXISTENT' });
  await assert.rejects(inbox.read(2), { code: 'EXPUNGEISSUE' });
  for (const v of [inbox, archive, trash]) await v.close();
});

test('expunge removes only \\Deleted messages, all or within a UID set (RFC 4315 UID EXPUNGE)', async (t) => {
  const { store } = await setup(t);
  for (let i = 1; i <= 4; i++) await store.append(ALICE, 'INBOX', msg(i));
  const view = await store.open(ALICE, 'INBOX');
  await view.setFlags([1, 2, 3], { mode: 'add', flags: ['\\Deleted'] });
  assert.deepEqual(await view.expunge([2, 4]), [2]);
  assert.deepEqual(await view.expunge(), [1, 3]);
  assert.deepEqual(view.uids(), [4]);
  assert.equal(view.status().messages, 1);
  await view.close();
});

test('200 concurrent appends to one folder get 200 distinct UIDs', async (t) => {
  const { store } = await setup(t);
  const results = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append(ALICE, 'INBOX', msg(i))));
  assert.deepEqual(results.map((r) => r.uid).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1));
  const view = await store.open(ALICE, 'INBOX');
  for (const [i, r] of results.entries()) {
    if (i % 37 === 0) assert.deepEqual(await streamText(await view.read(r.uid)), msg(i));
  }
  await view.close();
});

test('\\Recent of many new/ files (renamed in several slices) goes to exactly one view, also across two stores', async (t) => {
  const { store, root, inbox } = await setup(t);
  const COUNT = 300; // several rename slices (folder-state.ts RENAME_SLICE)
  for (let i = 0; i < COUNT; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.append(ALICE, 'INBOX', msg(i + j))));
  assert.equal((await fsp.readdir(path.join(inbox, 'new'))).length, COUNT);
  // A second store on the same Maildir stands for another process claiming at the same time.
  const other = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => other.close());
  const [a, b] = await Promise.all([store.open(ALICE, 'INBOX'), other.open(ALICE, 'INBOX')]);
  const recentA = a.uids().filter((u) => a.isRecent(u));
  const recentB = b.uids().filter((u) => b.isRecent(u));
  assert.equal(recentA.length + recentB.length, COUNT, 'every message is \\Recent in one view');
  assert.deepEqual(recentA.filter((u) => recentB.includes(u)), [], 'and in one only');
  assert.deepEqual(await fsp.readdir(path.join(inbox, 'new')), []);
  assert.equal((await fsp.readdir(path.join(inbox, 'cur'))).length, COUNT);
  const third = await store.open(ALICE, 'INBOX');
  assert.equal(third.uids().filter((u) => third.isRecent(u)).length, 0);
  assert.match((await streamText(await third.read(COUNT))).toString(), /^Subject: \d+\r\n\r\nbody \d+\r\n$/, 'a moved message is read from cur/');
  for (const v of [a, b, third]) await v.close();
});
