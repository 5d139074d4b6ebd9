import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { AppendResult, MessageSource } from '../../core/store/mail-store.ts';
import type { FsPort } from './fs-port.ts';
import { nodeFs } from './fs-port.ts';
import { MaildirStore } from './maildir-store.ts';
import { streamText, tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';
const body = (n: number): Buffer => Buffer.from(`Subject: message ${n}\r\n\r\n${'x'.repeat(n % 50)} body ${n}\r\n`);
const prefix = (n: number): Buffer => Buffer.from(`Return-Path: <s${n}@example.test>\r\nDelivered-To: ${ALICE}\r\n`);

async function setup(t: Parameters<typeof tempRoot>[0], fs?: FsPort) {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'mx.example.test', ...(fs && { fs }) });
  t.after(() => store.close());
  const spool = path.join(root, 'spool');
  await fsp.mkdir(spool);
  return { root, store, spool, inbox: path.join(root, 'example.test', 'alice') };
}

/** Message n as local delivery hands it over (header prefix + spool file), or as bytes or a stream. */
async function source(spool: string, n: number): Promise<{ source: MessageSource; bytes: Buffer }> {
  if (n % 3 === 0) return { source: body(n), bytes: body(n) };
  if (n % 3 === 1) return { source: { stream: (async function* () { yield prefix(n); yield body(n); })() }, bytes: Buffer.concat([prefix(n), body(n)]) };
  const file = path.join(spool, `m${n}`);
  await fsp.writeFile(file, body(n));
  return { source: { prefix: prefix(n), path: file }, bytes: Buffer.concat([prefix(n), body(n)]) };
}

async function deliverAll(store: MaildirStore, spool: string, from: number, count: number): Promise<Map<number, Buffer>> {
  const sources = await Promise.all(Array.from({ length: count }, (_, i) => source(spool, from + i)));
  const results: AppendResult[] = await Promise.all(sources.map((s) => store.append(ALICE, 'INBOX', s.source, { create: true })));
  const byUid = new Map<number, Buffer>();
  results.forEach((r, i) => byUid.set(r.uid, sources[i].bytes));
  assert.equal(byUid.size, count, 'every delivery got its own UID');
  return byUid;
}

async function assertContents(store: MaildirStore, expected: ReadonlyMap<number, Buffer>): Promise<void> {
  const view = await store.open(ALICE, 'INBOX', { readOnly: true });
  try {
    assert.deepEqual(view.uids(), [...expected.keys()].sort((a, b) => a - b));
    for (const [uid, bytes] of expected) {
      assert.deepEqual(await streamText(await view.read(uid)), bytes, `message ${uid}`);
      assert.equal(view.get(uid)?.size, bytes.length);
    }
  } finally {
    await view.close();
  }
}

test('200 concurrent deliveries: UIDs 1..200, each file intact; later ones go above, never reusing one', async (t) => {
  const { store, spool, inbox, root } = await setup(t);
  const first = await deliverAll(store, spool, 0, 200);
  assert.deepEqual([...first.keys()].sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i + 1), 'no gaps');
  assert.equal((await fsp.readdir(path.join(inbox, 'new'))).length, 200);
  assert.deepEqual(await fsp.readdir(path.join(inbox, 'tmp')), [], 'nothing left behind in tmp/');

  const second = await deliverAll(store, spool, 200, 50);
  assert.ok(Math.min(...second.keys()) > 200, 'UIDs keep ascending');
  const all = new Map([...first, ...second]);
  await assertContents(store, all);
  const status = await store.status(ALICE, 'INBOX');
  assert.equal(status.messages, 250);
  assert.equal(status.uidNext, 251);

  // A restart: the same UIDs for the same messages, read from the index.
  await store.close();
  const again = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => again.close());
  await assertContents(again, all);
  assert.equal((await again.append(ALICE, 'INBOX', body(999))).uid, 251, 'UIDs are never reused (RFC 3501 §2.3.1.1)');
});

test('a file another tool drops into new/ during concurrent deliveries gets its own UID at the next scan', async (t) => {
  const { store, spool, inbox, root } = await setup(t);
  await store.append(ALICE, 'INBOX', body(0)); // the folder state is loaded before the burst
  const sources = await Promise.all(Array.from({ length: 100 }, (_, i) => source(spool, i + 1)));
  const foreign = Buffer.from('Subject: dropped by another MDA\r\n\r\nhello\r\n');
  const appending = sources.map((s) => store.append(ALICE, 'INBOX', s.source));
  // Meanwhile another MDA delivers the Maildir way (tmp/ then rename), as procmail or Dovecot's LDA would.
  const tmp = path.join(inbox, 'tmp', '1700000000.M1P1.othertool');
  await fsp.writeFile(tmp, foreign);
  await fsp.rename(tmp, path.join(inbox, 'new', '1700000000.M1P1.othertool'));
  const results = await Promise.all(appending);
  const ours = results.map((r) => r.uid);
  assert.equal(new Set(ours).size, 100);

  const view = await store.open(ALICE, 'INBOX', { readOnly: true });
  const uids = view.uids();
  assert.equal(uids.length, 102, 'message 0, the 100 deliveries and the dropped file');
  const theirs = uids.filter((uid) => uid !== 1 && !ours.includes(uid));
  assert.equal(theirs.length, 1);
  assert.ok(theirs[0] > 1, 'a UID of its own, not one of ours');
  assert.deepEqual(await streamText(await view.read(theirs[0])), foreign);
  await view.close();

  // A restart agrees on every UID.
  const expected = new Map<number, Buffer>([[1, body(0)], [theirs[0], foreign]]);
  results.forEach((r, i) => expected.set(r.uid, sources[i].bytes));
  await store.close();
  const again = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => again.close());
  await assertContents(again, expected);
});

test('two store instances (two processes) delivering into one folder at once share one UID sequence', async (t) => {
  const { root, store: a, spool } = await setup(t);
  const b = new MaildirStore({ root, hostname: 'node-b.example.test' });
  t.after(() => b.close());
  await a.listFolders(ALICE); // creates the mailbox
  const sources = await Promise.all(Array.from({ length: 120 }, (_, i) => source(spool, i)));
  const results = await Promise.all(sources.map((s, i) => (i % 2 === 0 ? a : b).append(ALICE, 'INBOX', s.source)));
  assert.deepEqual(results.map((r) => r.uid).sort((x, y) => x - y), Array.from({ length: 120 }, (_, i) => i + 1));
  const expected = new Map(results.map((r, i) => [r.uid, sources[i].bytes]));
  await assertContents(a, expected);
  await assertContents(b, expected);
});

test('append resolves only once its file, its directory entry and its UID are all on disk', async (t) => {
  // Every fsync, rename and journal write is logged with a start and an end; so is each append's end.
  const log: string[] = [];
  const { store, spool, inbox } = await setup(t, loggingFs(nodeFs, log));
  await store.listFolders(ALICE);
  const sources = await Promise.all(Array.from({ length: 40 }, (_, i) => source(spool, i)));
  const results = await Promise.all(
    sources.map(async (s) => {
      const r = await store.append(ALICE, 'INBOX', s.source);
      log.push(`resolved ${r.uid}`);
      return r;
    }),
  );
  // uid → base name and the log position of the journal write that recorded it.
  const journaled = new Map<number, { base: string; at: number }>();
  log.forEach((entry, at) => {
    if (!entry.startsWith('start write journal ')) return;
    for (const line of entry.split('\n')) {
      const m = /^(?:start write journal )?\+ (\d+) \d+ -?\d+ \d+ \S+ (\S+)$/.exec(line);
      if (m) journaled.set(Number(m[1]), { base: m[2], at });
    }
  });
  for (const { uid } of results) {
    const resolved = log.indexOf(`resolved ${uid}`);
    const record = journaled.get(uid);
    assert.ok(record && record.at < resolved, `uid ${uid}: journaled before resolving`);
    const renamed = log.indexOf(`end rename ${path.join(inbox, 'new', record.base)}`);
    assert.ok(renamed >= 0 && renamed < resolved, `uid ${uid}: renamed into new/ before resolving`);
    // A fsync of new/ that STARTED after the rename ENDED before append resolved.
    const dirSynced = log.some((e, i) => i > renamed && i < resolved && e === 'end sync new' && log.lastIndexOf('start sync new', i) > renamed);
    assert.ok(dirSynced, `uid ${uid}: new/ fsynced after its rename, before resolving`);
    const journalSynced = log.some((e, i) => i > record.at && i < resolved && e === 'end sync journal');
    assert.ok(journalSynced, `uid ${uid}: journal fsynced after its record was written, before resolving`);
  }
});

function loggingFs(base: FsPort, log: string[]): FsPort {
  const kind = (file: string): string =>
    file.endsWith('pochta-uidlist.log') ? 'journal' : /[/\\]new$/.test(file) ? 'new' : /[/\\]cur$/.test(file) ? 'cur' : file;
  const timed = <T>(label: string, op: () => Promise<T>): Promise<T> => {
    log.push(`start ${label}`);
    return op().finally(() => log.push(`end ${label}`));
  };
  return new Proxy(base, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      const fn = value as (...a: unknown[]) => Promise<unknown>;
      if (prop === 'rename') return (from: string, to: string) => timed(`rename ${to}`, () => fn.call(target, from, to));
      if (prop === 'renameSync') {
        return (from: string, to: string) => {
          log.push(`start rename ${to}`);
          void fn.call(target, from, to);
          log.push(`end rename ${to}`);
        };
      }
      if (prop !== 'open') return fn.bind(target);
      return async (...args: unknown[]) => {
        const file = String(args[0]);
        const handle = (await fn.apply(target, args)) as Awaited<ReturnType<FsPort['open']>>;
        const what = kind(file);
        if (what !== 'journal' && what !== 'new' && what !== 'cur') return handle;
        return new Proxy(handle, {
          get(h, p) {
            const v: unknown = Reflect.get(h, p, h);
            if (typeof v !== 'function') return v;
            const m = v as (...a: unknown[]) => Promise<unknown>;
            if (p === 'sync') return () => timed(`sync ${what}`, () => m.call(h));
            if (p === 'write' && what === 'journal') {
              return (...a: unknown[]) => timed(`write journal ${Buffer.from(a[0] as Uint8Array).toString()}`, () => m.apply(h, a));
            }
            return m.bind(h);
          },
        });
      };
    },
  });
}

test('a folder re-indexed while a message was being written: append still answers with the UID it has there', async (t) => {
  const { store, inbox } = await setup(t);
  const before = await store.append(ALICE, 'INBOX', body(1));
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const slow = (async function* () {
    yield prefix(2);
    await gate;
    yield body(2);
  })();
  const pending = store.append(ALICE, 'INBOX', { stream: slow });
  for (let i = 0; i < 500 && (await fsp.readdir(path.join(inbox, 'tmp'))).length === 0; i++) await new Promise((r) => setTimeout(r, 2));
  assert.equal((await fsp.readdir(path.join(inbox, 'tmp'))).length, 1, 'the message is being written');
  // Another tool throws the index away: the folder gets a new UIDVALIDITY.
  await fsp.rm(path.join(inbox, 'pochta-uidlist'));
  await fsp.rm(path.join(inbox, 'pochta-uidlist.log'));
  release();
  const after = await pending;
  assert.notEqual(after.uidValidity, before.uidValidity);
  const view = await store.open(ALICE, 'INBOX', { readOnly: true });
  assert.equal(view.uidValidity, after.uidValidity);
  assert.deepEqual(await streamText(await view.read(after.uid)), Buffer.concat([prefix(2), body(2)]));
  assert.equal(view.uids().length, 2);
  await view.close();
});

test('delivery with create: a missing folder is created, also after another tool removed it while cached', async (t) => {
  const { store, root } = await setup(t);
  assert.equal((await store.append(ALICE, 'Lists.new', body(1), { create: true })).uid, 1);
  await assert.rejects(store.append(ALICE, 'Lists.other', body(2)), { code: 'NONEXISTENT' });
  await fsp.rm(path.join(root, 'example.test', 'alice', '.Lists.new'), { recursive: true });
  // The cached state learns it from the failed write (a delivery is retried: the queue tries again).
  await assert.rejects(store.append(ALICE, 'Lists.new', body(3), { create: true }), { code: 'NONEXISTENT' });
  const again = await store.append(ALICE, 'Lists.new', body(4), { create: true });
  assert.equal(again.uid, 1);
  const view = await store.open(ALICE, 'Lists.new', { readOnly: true });
  assert.deepEqual(await streamText(await view.read(1)), body(4));
  await view.close();
});
