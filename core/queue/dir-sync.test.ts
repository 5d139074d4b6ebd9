import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DirSyncer } from './dir-sync.ts';

test('concurrent callers share directory fsyncs, and each waits for one that started after its call', async () => {
  const started: number[] = [];
  let clock = 0;
  let release: Array<() => void> = [];
  const syncer = new DirSyncer('/x', async () => {
    started.push(++clock);
    await new Promise<void>((r) => release.push(r));
  });
  const flush = async () => {
    await new Promise((r) => setImmediate(r));
    const now = release;
    release = [];
    for (const r of now) r();
    await new Promise((r) => setImmediate(r));
  };
  const first = syncer.sync(); // starts fsync #1
  const calledAt = clock;
  const later = Array.from({ length: 10 }, () => syncer.sync()); // arrive while #1 runs
  let laterDone = false;
  void Promise.all(later).then(() => { laterDone = true; });
  await flush(); // #1 completes; #2 starts for the waiting ones
  await first;
  assert.equal(laterDone, false, 'callers that arrived during #1 wait for #2');
  await flush(); // #2 completes
  await Promise.all(later);
  assert.equal(started.length, 2, '11 callers, 2 fsyncs');
  assert.ok(started[1] > calledAt);
});

test('a failing fsync rejects its callers, and the next call tries again', async () => {
  let fail = true;
  const syncer = new DirSyncer('/x', async () => { if (fail) throw new Error('EIO'); });
  await assert.rejects(syncer.sync(), /EIO/);
  fail = false;
  await syncer.sync();
});
