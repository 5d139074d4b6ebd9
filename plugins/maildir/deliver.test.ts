import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { CHUNK_SIZE, deliver } from './deliver.ts';
import { parseFilename } from './filename.ts';
import { nodeFs } from './fs-port.ts';
import { recordingFs, tempRoot } from './test-support.ts';
import { UniqueNamer } from './unique-name.ts';

async function maildir(root: string): Promise<string> {
  const dir = path.join(root, 'md');
  for (const sub of ['tmp', 'new', 'cur']) await fsp.mkdir(path.join(dir, sub), { recursive: true });
  return dir;
}

test('delivers header prefix + spool file byte-exact into new/, with the Maildir++ size', async (t) => {
  const root = await tempRoot(t);
  const dir = await maildir(root);
  const spool = path.join(root, 'spool.eml');
  const body = Buffer.concat([Buffer.from('Subject: hi\r\n\r\n'), randomBytes(1000), Buffer.from('\r\n.\r\n\x00\xff')]);
  await fsp.writeFile(spool, body);
  const prefix = Buffer.from('Return-Path: <a@example.test>\r\nDelivered-To: b@example.test\r\n');

  const out = await deliver(nodeFs, new UniqueNamer('mx.example.test'), { prefix, path: spool }, { dir });

  assert.equal(out.subdir, 'new');
  assert.equal(out.size, prefix.length + body.length);
  assert.equal(parseFilename(out.filename).size, out.size);
  assert.deepEqual(await fsp.readFile(path.join(dir, 'new', out.filename)), Buffer.concat([prefix, body]));
  assert.deepEqual(await fsp.readdir(path.join(dir, 'tmp')), []);
});

test('a 5 MB body is streamed in bounded chunks and arrives intact', async (t) => {
  const root = await tempRoot(t);
  const dir = await maildir(root);
  const spool = path.join(root, 'big.eml');
  const body = randomBytes(5 * 1024 * 1024 + 17);
  await fsp.writeFile(spool, body);
  const { fs, calls } = recordingFs();

  const out = await deliver(fs, new UniqueNamer('h'), { prefix: Buffer.from('X-A: 1\r\n'), path: spool }, { dir });

  const written = await fsp.readFile(path.join(dir, 'new', out.filename));
  assert.deepEqual(written.subarray(8), body);
  // Never whole in memory: every write to the tmp file is at most one chunk.
  const writes = calls.filter((c) => c.op === 'handle.write');
  assert.ok(writes.length > 80, `expected many chunked writes, got ${writes.length}`);
  assert.ok(writes.every((w) => (w.bytes ?? Infinity) <= CHUNK_SIZE));
});

for (const kind of ['small in-memory (one write)', 'streamed from a file'] as const) {
  test(`the file is fsynced in tmp/, then renamed into new/, then new/ is fsynced: ${kind}`, async (t) => {
    const root = await tempRoot(t);
    const dir = await maildir(root);
    const spool = path.join(root, 'spool.eml');
    await fsp.writeFile(spool, 'hello\r\n');
    const { fs, calls } = recordingFs();
    let newAtRename: string[] | undefined;
    const watching: typeof fs = new Proxy(fs, {
      get(target, prop) {
        if (prop === 'rename') {
          return async (from: string, to: string) => {
            newAtRename = await fsp.readdir(path.join(dir, 'new'));
            return target.rename(from, to);
          };
        }
        if (prop === 'renameSync') {
          return (from: string, to: string) => {
            newAtRename = readdirSync(path.join(dir, 'new'));
            target.renameSync(from, to);
          };
        }
        return Reflect.get(target, prop, target);
      },
    });
    const small = kind.startsWith('small');

    const out = await deliver(watching, new UniqueNamer('h'), small ? Buffer.from('hello\r\n') : { path: spool }, { dir });

    const ops = calls.map((c) => `${c.op} ${path.relative(dir, c.path)}`);
    const tmpName = path.join('tmp', out.filename.replace(/,S=\d+$/, ''));
    const at = (s: string): number => ops.indexOf(s);
    const synced = at(small ? `fsyncFd ${tmpName}` : `handle.sync ${tmpName}`);
    const renamed = at(`rename ${tmpName}`);
    assert.ok(synced >= 0 && renamed >= 0, ops.join('\n'));
    if (small) assert.ok(at(`closeFd ${tmpName}`) < renamed, 'closed before the rename');
    assert.ok(synced < renamed);
    assert.ok(renamed < ops.lastIndexOf('handle.sync new'));
    assert.deepEqual(newAtRename, [], 'nothing is visible in new/ before the complete file is renamed there');
    assert.deepEqual(await fsp.readdir(path.join(dir, 'new')), [out.filename]);
    assert.equal(await fsp.readFile(path.join(dir, 'new', out.filename), 'utf8'), 'hello\r\n');
  });
}

test('a small in-memory delivery whose fsync fails leaves nothing behind and reports the error', async (t) => {
  const root = await tempRoot(t);
  const dir = await maildir(root);
  const failing = { ...nodeFs, fsyncFd: async () => { throw Object.assign(new Error('EIO: disk gone'), { code: 'EIO' }); } };
  await assert.rejects(deliver(failing, new UniqueNamer('h'), Buffer.from('x\r\n'), { dir }), /EIO/);
  assert.deepEqual(await fsp.readdir(path.join(dir, 'tmp')), []);
  assert.deepEqual(await fsp.readdir(path.join(dir, 'new')), []);
});

test('200 parallel deliveries get 200 unique names and intact bodies', async (t) => {
  const root = await tempRoot(t);
  const dir = await maildir(root);
  const namer = new UniqueNamer('mx/weird:host,name');
  const outs = await Promise.all(
    Array.from({ length: 200 }, (_, i) => deliver(nodeFs, namer, Buffer.from(`Message ${i}\r\n`), { dir })),
  );
  const names = new Set(outs.map((o) => o.filename));
  assert.equal(names.size, 200);
  assert.equal((await fsp.readdir(path.join(dir, 'new'))).length, 200);
  for (const [i, o] of outs.entries()) {
    assert.equal(await fsp.readFile(path.join(dir, 'new', o.filename), 'utf8'), `Message ${i}\r\n`);
    assert.match(o.filename, /^\d+\.M\d+P\d+Q\d+R[0-9a-f]+\.mx\\057weird\\072host\\054name,S=\d+$/);
  }
});

test('flags put the message in cur/ with the info suffix; a failed write leaves nothing behind', async (t) => {
  const root = await tempRoot(t);
  const dir = await maildir(root);
  const date = new Date('2020-01-02T03:04:05Z');
  const out = await deliver(nodeFs, new UniqueNamer('h'), Buffer.from('x'), { dir, info: 'FS', internalDate: date });
  assert.equal(out.subdir, 'cur');
  assert.ok(out.filename.endsWith(':2,FS'));
  assert.equal((await fsp.stat(path.join(dir, 'cur', out.filename))).mtime.getTime(), date.getTime());

  await assert.rejects(deliver(nodeFs, new UniqueNamer('h'), { path: path.join(root, 'missing') }, { dir }), { code: 'ENOENT' });
  assert.deepEqual(await fsp.readdir(path.join(dir, 'tmp')), []);
});
