import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SpillSink } from '../queue/spill-sink.ts';
import { DataGuard } from './data-guard.ts';
import { receiveData } from './receive-data.ts';

const guard = (maxBytes = 1e9) => new DataGuard({ maxLineLength: 998, maxBytes, normalize: false });
const chunks = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, 0x61 + (i % 26)));

test('a small body stays in memory, byte-exact, with the guard counting it', async () => {
  const parts = [Buffer.from('Subject: x\r\n\r\nline one\r\n'), Buffer.from('line\ntwo\r\n')];
  const g = guard();
  const sink = new SpillSink(1 << 20, () => Promise.reject(new Error('no file expected')));
  await receiveData(Readable.from(parts), g, sink);
  assert.equal(sink.spilled, false);
  assert.deepEqual(sink.bytes(), Buffer.concat(parts));
  assert.equal(g.bareLineEndings, 1);
  assert.equal(g.bytesOut, Buffer.concat(parts).length);
});

test('a body over the memory threshold spills to its file, in order, pausing the stream while writing', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pochta-recv-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'body');
  const parts = chunks(40, 16 * 1024);
  const sink = new SpillSink(64 * 1024, () => open(file, 'w'));
  await receiveData(Readable.from(parts), guard(), sink);
  assert.equal(sink.spilled, true);
  await sink.handle!.close();
  assert.deepEqual(await readFile(file), Buffer.concat(parts));
});

test('bytes past the size limit are not stored; the stream is still read to its end', async () => {
  const g = guard(10_000);
  const sink = new SpillSink(1 << 20, () => Promise.reject(new Error('no file expected')));
  const source = Readable.from(chunks(10, 4096));
  await receiveData(source, g, sink);
  assert.equal(g.oversized, true);
  assert.ok(sink.bytes().length <= 10_000);
  assert.equal(source.readableEnded, true);
});

test('a sink that cannot write rejects, and the rest of DATA is still drained (the session must reply)', async () => {
  const sink = new SpillSink(1024, () => Promise.reject(Object.assign(new Error('ENOSPC: no space'), { code: 'ENOSPC' })));
  const source = Readable.from(chunks(20, 4096));
  await assert.rejects(receiveData(source, guard(), sink), /ENOSPC/);
  await new Promise((r) => setImmediate(r));
  await new Promise<void>((resolve) => (source.readableEnded ? resolve() : source.once('end', resolve)));
  assert.equal(source.readableEnded, true);
});

test('a stream error rejects', async () => {
  const source = new Readable({ read() { this.destroy(new Error('connection reset')); } });
  const sink = new SpillSink(1 << 20, () => Promise.reject(new Error('unused')));
  await assert.rejects(receiveData(source, guard(), sink), /connection reset/);
});
