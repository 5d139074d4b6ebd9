import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readKnownSize } from './body.ts';
import type { SpoolEnvelope } from './envelope.ts';
import { newQueueId } from './ids.ts';
import { readHead, unlinkIfExists } from './small-io.ts';
import { Spool } from './spool.ts';

test('readHead: a file shorter than the buffer is whole; one that fills it may be longer', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-smallio-'));
  try {
    const f = path.join(dir, 'f');
    await writeFile(f, 'hello world');
    assert.deepEqual(await readHead(f, 64).then((r) => [r.bytes.toString(), r.whole]), ['hello world', true]);
    assert.deepEqual(await readHead(f, 5).then((r) => [r.bytes.toString(), r.whole]), ['hello', false]);
    await writeFile(f, '');
    assert.deepEqual(await readHead(f, 8).then((r) => [r.bytes.length, r.whole]), [0, true]);
    // The body of a job: exactly its known size, or undefined (the engine then streams it).
    await writeFile(f, 'x'.repeat(100));
    assert.equal((await readKnownSize(f, 100))?.length, 100);
    assert.equal(await readKnownSize(f, 99), undefined);
    assert.equal(await readKnownSize(f, 101), undefined);
    await assert.rejects(readKnownSize(path.join(dir, 'missing'), 10), { code: 'ENOENT' });
    await unlinkIfExists(f);
    await unlinkIfExists(f);
    assert.deepEqual(await readdir(dir), []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('readEnvelope: a small envelope in one read, one larger than the first read in full', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-smallio-'));
  try {
    const spool = new Spool(dir);
    await spool.open();
    const make = (n: number): SpoolEnvelope => ({
      v: 1, id: newQueueId(Date.now()), receivedAt: Date.now(), size: 5,
      mailFrom: { address: 'a@b.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
      client: { address: '127.0.0.1', listener: 'mx', secure: false }, headerEdits: [],
      recipients: Array.from({ length: n }, (_, i) => ({ address: `r${i}@remote.test`, target: { kind: 'remote' as const, address: `r${i}@remote.test` }, state: 'pending' as const, attempts: 0 })),
    });
    for (const n of [1, 1000]) {
      const e = make(n);
      await spool.updateEnvelope(e);
      if (n === 1000) assert.ok(JSON.stringify(e).length > Spool.ENVELOPE_READ);
      assert.deepEqual(await spool.readEnvelope(e.id), e);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
