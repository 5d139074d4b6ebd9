import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DirSyncs, type DirFs } from './dir-syncs.ts';

/** A file-system port whose directory fsyncs finish only when the test says so. */
function fakeFs() {
  const events: string[] = [];
  const pending: (() => void)[] = [];
  const fs = {
    open: async (dir: string) => {
      events.push(`open ${dir}`);
      return {
        sync: () => {
          events.push(`sync ${dir}`);
          return new Promise<void>((resolve) => pending.push(resolve));
        },
        close: async () => {
          events.push(`close ${dir}`);
        },
      };
    },
  } as unknown as DirFs;
  const finishSync = async (): Promise<void> => {
    const next = pending.shift();
    assert.ok(next, 'a fsync is running');
    next();
    for (let i = 0; i < 10; i++) await Promise.resolve(); // let the callbacks run
  };
  return { fs, events, pending, finishSync };
}

test('a caller waits for a directory fsync that started after its call; callers meanwhile share the next one', async () => {
  const { fs, events, pending, finishSync } = fakeFs();
  const syncs = new DirSyncs(fs);
  const done: string[] = [];
  const first = syncs.sync('/m/new').then(() => done.push('first'));
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(pending.length, 1, 'the first caller starts a fsync at once');
  // These come while it runs: it may have started before their renames, so they wait for the next one.
  const second = syncs.sync('/m/new').then(() => done.push('second'));
  const third = syncs.sync('/m/new').then(() => done.push('third'));
  const other = syncs.sync('/m/cur').then(() => done.push('other dir'));
  await finishSync();
  assert.deepEqual(done, ['first']);
  assert.equal(pending.length, 2, 'one more fsync of new/ for both waiting callers (and the one of cur/)');
  await finishSync(); // cur/ (started second)
  await finishSync(); // new/, the shared one
  await Promise.all([first, second, third, other]);
  assert.deepEqual(done, ['first', 'other dir', 'second', 'third']);
  const newEvents = events.filter((e) => e.endsWith('/m/new'));
  assert.deepEqual(newEvents, ['open /m/new', 'sync /m/new', 'sync /m/new', 'close /m/new'], 'the directory stays open between back-to-back fsyncs');

  // Idle again: the next caller starts a fresh fsync.
  const later = syncs.sync('/m/new');
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(pending.length, 1);
  await finishSync();
  await later;
});

test('a failing fsync rejects its callers, and the next call tries again', async () => {
  let fail = true;
  const fs = { open: async () => ({ sync: async () => { if (fail) throw new Error('EIO'); }, close: async () => {} }) } as DirFs;
  const syncs = new DirSyncs(fs);
  await assert.rejects(syncs.sync('/q'), /EIO/);
  fail = false;
  await syncs.sync('/q');
});
