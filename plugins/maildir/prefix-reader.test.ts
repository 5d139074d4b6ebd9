// readPrefixes: the first bytes of many messages in bounded synchronous slices (prefix-reader.ts).
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { MaildirStore } from './maildir-store.ts';
import { streamText, tempRoot } from './test-support.ts';

const ALICE = 'alice@example.test';
const msg = (n: number): Buffer => Buffer.from(`Subject: message number ${n}\r\nX-Pad: ${'x'.repeat(n % 50)}\r\n\r\nbody ${n}\r\n`);

async function setup(t: Parameters<typeof tempRoot>[0], count: number) {
  const root = await tempRoot(t);
  const store = new MaildirStore({ root, hostname: 'mx.example.test' });
  t.after(() => store.close());
  for (let i = 0; i < count; i++) await store.append(ALICE, 'INBOX', msg(i));
  const view = await store.open(ALICE, 'INBOX');
  t.after(() => view.close());
  return { view, cur: path.join(root, 'example.test', 'alice', 'cur') };
}

test('every message once, its first bytes as read() gives them; the event loop runs between slices', async (t) => {
  const { view } = await setup(t, 200);
  const uids = view.uids();
  const got = new Map<number, Buffer | undefined>();
  let turns = 0;
  const tick = (): void => {
    turns++;
  };
  setImmediate(tick); // runs only if readPrefixes lets the event loop turn before it is done
  await view.readPrefixes?.(uids, 30, (uid, bytes) => {
    assert.ok(!got.has(uid), `uid ${uid} once`);
    got.set(uid, bytes && Buffer.from(bytes)); // copy: the buffer is reused
  });
  assert.equal(got.size, uids.length);
  for (const uid of uids) {
    const size = view.get(uid)?.size ?? 0;
    assert.deepEqual(got.get(uid), await streamText(await view.read(uid, { start: 0, end: Math.min(30, size) })), `uid ${uid}`);
  }
  assert.equal(turns, 1, '200 files are more than one slice: the loop had a turn');
  // A length past the end gives the whole (shorter) file.
  await view.readPrefixes?.([uids[0] ?? 0], 1 << 20, (_uid, bytes) => assert.deepEqual(bytes && Buffer.from(bytes), msg(0)));
});

test('a file renamed by another tool is found after a rescan; a UID the folder lacks gives undefined', async (t) => {
  const { view, cur } = await setup(t, 3);
  const [first] = await fsp.readdir(cur);
  assert.ok(first);
  // Another Maildir client marks it seen: same base name, new info.
  await fsp.rename(path.join(cur, first), path.join(cur, `${first.slice(0, first.indexOf(':2,'))}:2,S`));
  const got = new Map<number, Buffer | undefined>();
  await view.readPrefixes?.([...view.uids(), 99], 1000, (uid, bytes) => got.set(uid, bytes && Buffer.from(bytes)));
  assert.equal(got.size, 4);
  assert.equal(got.get(99), undefined);
  const all = [...got.entries()].filter(([u]) => u !== 99).map(([, b]) => b?.toString()).sort();
  assert.deepEqual(all, [0, 1, 2].map((n) => msg(n).toString()).sort());
});
