import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Spool } from './spool.ts';
import { newQueueId, ownsQueueId, QUEUE_ID, workerOf } from './ids.ts';
import type { SpoolEnvelope } from './envelope.ts';
import { startTestServer } from '../testing/server-harness.ts';

const env = (id: string): SpoolEnvelope => ({
  v: 1, id, receivedAt: Date.now(), size: 5,
  mailFrom: { address: 'a@b.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
  client: { address: '127.0.0.1', listener: 'mx', secure: false },
  headerEdits: [],
  recipients: [{ address: 'x@y.test', target: { kind: 'local', user: 'x@y.test' }, state: 'pending', attempts: 0 }],
});

test('queue ids are unique, sortable by time and file-name safe', () => {
  const ids = new Set(Array.from({ length: 10_000 }, () => newQueueId(1_700_000_000_000)));
  assert.equal(ids.size, 10_000);
  for (const id of ids) assert.match(id, QUEUE_ID);
  assert.ok(newQueueId(1_700_000_000_000) < newQueueId(1_800_000_000_000));
});

test('commit makes body and envelope durable; recover keeps them, drops orphans and temp files', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-spool-'));
  try {
    const spool = new Spool(dir);
    await spool.open();
    const a = newQueueId();
    const fh = await spool.createBody(a);
    await fh.write(Buffer.from('hello'));
    await spool.commit(env(a), fh);
    const orphan = newQueueId();
    await (await spool.createBody(orphan)).close();
    await writeFile(path.join(spool.dir, `${newQueueId()}.env.tmp`), '{');
    const noBody = newQueueId();
    await writeFile(spool.envPath(noBody), JSON.stringify(env(noBody)));
    const r = await new Spool(dir).recover();
    assert.deepEqual(r.ids, [a]);
    assert.equal(r.orphans, 1);
    assert.deepEqual(r.corrupt, [noBody]);
    assert.deepEqual((await readdir(spool.dir)).sort(), [`${a}.env`, `${a}.msg`, `${noBody}.env`].sort());
    assert.deepEqual((await spool.readEnvelope(a)).recipients[0]?.state, 'pending');
    await spool.remove(a);
    assert.deepEqual(await readdir(spool.dir), [`${noBody}.env`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('recovery runs before the listeners open, so it can never remove the body of a message being received', async () => {
  const orphan = newQueueId();
  const t = await startTestServer({
    config: { plugins: {} },
    setup: async (dir) => {
      await mkdir(path.join(dir, 'queue'), { recursive: true });
      await writeFile(path.join(dir, 'queue', `${orphan}.msg`), 'never acknowledged');
    },
  });
  try {
    const removed = t.logs.findIndex((l) => l.event === 'queue.orphans_removed');
    const listening = t.logs.findIndex((l) => l.event === 'smtp.listening');
    assert.ok(removed >= 0 && listening > removed, 'orphans removed before the first listener opened');
  } finally {
    await t.close();
  }
});

test('queue ids name their worker; each worker recovers its own, worker 1 also adopts orphaned ones', () => {
  const of = (w: number) => newQueueId(Date.now(), w);
  assert.equal(workerOf(of(0)), 0);
  assert.equal(workerOf(of(7)), 7);
  assert.throws(() => newQueueId(Date.now(), 32));
  // single process: everything
  assert.equal(ownsQueueId(of(3), 0, 1), true);
  // two workers
  assert.equal(ownsQueueId(of(1), 1, 2), true);
  assert.equal(ownsQueueId(of(2), 1, 2), false);
  assert.equal(ownsQueueId(of(2), 2, 2), true);
  assert.equal(ownsQueueId(of(0), 1, 2), true, 'left by a single-process run');
  assert.equal(ownsQueueId(of(0), 2, 2), false);
  assert.equal(ownsQueueId(of(5), 1, 2), true, 'left by a worker that no longer exists');
  assert.equal(ownsQueueId(of(5), 2, 2), false);
});

test('recover() touches only the ids it owns: another worker\'s body in progress is left alone', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-spool-'));
  try {
    const spool = new Spool(dir);
    await spool.open();
    const mine = newQueueId(Date.now(), 2);
    const theirs = newQueueId(Date.now(), 1);
    await (await spool.createBody(mine)).close();
    await (await spool.createBody(theirs)).close();
    const r = await spool.recover((id) => ownsQueueId(id, 2, 2));
    assert.equal(r.orphans, 1);
    assert.deepEqual(await readdir(spool.dir), [`${theirs}.msg`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('at start, deferred local recipients are retried at once rather than at their next attempt time', async () => {
  const id = newQueueId(Date.now());
  const t = await startTestServer({
    config: { plugins: { maildir: {} } },
    setup: async (dir) => {
      await mkdir(path.join(dir, 'queue'), { recursive: true });
      await writeFile(path.join(dir, 'queue', `${id}.msg`), 'Subject: deferred before a restart\r\n\r\nbody\r\n');
      const e = env(id);
      e.recipients[0] = { address: 'late@resume.test', target: { kind: 'local', user: 'late@resume.test' }, state: 'pending', attempts: 1, nextAttemptAt: Date.now() + 3_600_000, lastError: 'before the restart' };
      await writeFile(path.join(dir, 'queue', `${id}.env`), JSON.stringify(e));
    },
  });
  try {
    const newDir = path.join(t.dataDir, 'mail', 'resume.test', 'late', 'new');
    let found: string[] = [];
    for (let i = 0; i < 200 && found.length === 0; i++) {
      found = await readdir(newDir).catch(() => []);
      if (!found.length) await new Promise((r) => setTimeout(r, 25));
    }
    assert.equal(found.length, 1, 'delivered right after the restart');
    for (let i = 0; i < 200 && (await readdir(path.join(t.dataDir, 'queue'))).length; i++) await new Promise((r) => setTimeout(r, 25));
    assert.deepEqual(await readdir(path.join(t.dataDir, 'queue')), [], 'spool entry removed');
  } finally {
    await t.close();
  }
});

test('schedule hints: recover reports the earliest hint of a complete message and removes the others', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-spool-'));
  try {
    const spool = new Spool(dir);
    await spool.open();
    const a = newQueueId();
    const b = newQueueId();
    const gone = newQueueId();
    for (const id of [a, b]) {
      await writeFile(spool.bodyPath(id), 'x');
      await writeFile(spool.envPath(id), JSON.stringify(env(id)));
    }
    const t1 = Date.now() + 3_600_000;
    const t2 = t1 + 60_000;
    await spool.moveHint(a, undefined, t2);
    await spool.moveHint(a, undefined, t1); // a crash left both
    await spool.moveHint(gone, undefined, t1); // its message is gone
    await writeFile(path.join(spool.dir, `${b}.next-!!`), ''); // unparsable
    const seen = new Map<string, number | undefined>();
    const r = await spool.recover(undefined, (id, at) => seen.set(id, at));
    assert.equal(r.count, 2);
    assert.equal(r.waiting, 1);
    assert.deepEqual([...seen.keys()].sort(), [a, b].sort());
    assert.equal(seen.get(b), undefined, 'no usable hint: due at once');
    const at = seen.get(a)!;
    assert.ok(at <= t1 && t1 - at < 1000, 'the earlier hint, rounded down (early, never late)');
    assert.deepEqual((await readdir(spool.dir)).filter((n) => n.includes('.next-')), [`${a}.next-${t1.toString(36)}`]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
