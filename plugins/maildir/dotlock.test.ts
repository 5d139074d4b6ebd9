import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { readdir, readFile, stat, writeFile, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DotlockOwners, withDotlock } from './dotlock.ts';
import { nodeFs } from './fs-port.ts';
import { tempRoot } from './test-support.ts';

test('a lock left by a process that died (kill -9) is broken at once, not after staleMs', async (t) => {
  const dir = await tempRoot(t);
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
  const lock = path.join(dir, 'x.lock');
  await writeFile(lock, `${dead} ${os.hostname()}\n`);
  let ran = false;
  await withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 2000 }, async () => { ran = true; });
  assert.equal(ran, true);
  await assert.rejects(access(lock), 'released afterwards');
});

test('a lock held by a live process (or another host) is waited for, then refused', async (t) => {
  const dir = await tempRoot(t);
  const lock = path.join(dir, 'x.lock');
  await writeFile(lock, `1 ${os.hostname()}\n`);
  await assert.rejects(withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 200 }, async () => {}), /locked/);
  await writeFile(lock, `999999 some-other-host\n`);
  await assert.rejects(withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 200 }, async () => {}), /locked/);
});

test('a holder killed (kill -9) at any point of taking or releasing locks never leaves one that blocks the next taker', { timeout: 60_000 }, async (t) => {
  const dir = await tempRoot(t);
  const locks = Array.from({ length: 24 }, (_, i) => path.join(dir, `f${i}.lock`));
  // The child takes and releases every lock in a loop while fsyncs keep the thread pool busy (where
  // the lock file's write waits under load), and is killed mid-way.
  const script = `
    import { DotlockOwners, withDotlock } from ${JSON.stringify(new URL('./dotlock.ts', import.meta.url).href)};
    import { nodeFs } from ${JSON.stringify(new URL('./fs-port.ts', import.meta.url).href)};
    import fsp from 'node:fs/promises';
    const locks = ${JSON.stringify(locks)};
    // Half the locks keep their owner file between uses (as the store does), half make one per use.
    const kept = { staleMs: 600000, timeoutMs: 600000, owners: new DotlockOwners() };
    const perUse = { staleMs: 600000, timeoutMs: 600000 };
    let n = 0;
    locks.forEach((lock, i) => (async () => { for (;;) { await withDotlock(nodeFs, lock, i % 2 ? kept : perUse, async () => { n++; }); } })());
    for (let i = 0; i < 8; i++) (async () => {
      const h = await fsp.open(${JSON.stringify(dir)} + '/sync' + i, 'w');
      for (;;) { await h.write('x'); await h.sync(); }
    })();
    const timer = setInterval(() => { if (n > 2000) { process.stdout.write('busy\\n'); clearInterval(timer); } }, 5);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(child, 'exit');
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the child never got busy')), 30_000);
      child.stdout.on('data', () => { clearTimeout(timer); resolve(); });
      child.once('exit', () => { clearTimeout(timer); reject(new Error('the child exited')); });
    });
    await sleep(20 + Math.floor(Math.random() * 30));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // Each lock is free or names the dead child: taken without waiting for staleMs (600 s); a lock
  // that could only be broken as stale would reject with "locked" at timeoutMs.
  await Promise.all(locks.map((lock) => withDotlock(nodeFs, lock, { staleMs: 600_000, timeoutMs: 5_000 }, async () => undefined)));
  const left = (await readdir(dir)).filter((f) => f.endsWith('.lock'));
  assert.deepEqual(left, [], 'every lock released');
});

test('with kept owner files, taking and dropping a lock allocates no inode; a dead process\'s owner file is cleared; removeAll cleans up', async (t) => {
  const dir = await tempRoot(t);
  const lock = path.join(dir, 'x.lock');
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString());
  const tag = os.hostname().replace(/[^A-Za-z0-9-]/g, '_');
  await writeFile(`${lock}.${tag}.${dead}`, `${dead} ${os.hostname()}\n`); // left by a kill -9 while not holding
  const owners = new DotlockOwners();
  const opts = { staleMs: 60_000, timeoutMs: 2000, owners };
  const inodes: number[] = [];
  for (let i = 0; i < 3; i++) {
    await withDotlock(nodeFs, lock, opts, async () => {
      inodes.push((await stat(lock)).ino);
      assert.equal(await readFile(lock, 'utf8'), `${process.pid} ${os.hostname()}\n`, 'the lock names its holder');
    });
  }
  assert.equal(new Set(inodes).size, 1, 'one inode for every use: the owner file, linked and unlinked');
  assert.deepEqual(await readdir(dir), [`x.lock.${tag}.${process.pid}`], 'the dead owner file removed, the lock released, ours kept');
  await owners.removeAll(nodeFs);
  assert.deepEqual(await readdir(dir), []);
});

test('many callers in one process, with and without kept owner files: one holder at a time, nothing left behind', async (t) => {
  const dir = await tempRoot(t);
  const lock = path.join(dir, 'x.lock');
  const owners = new DotlockOwners();
  let inside = 0;
  let most = 0;
  let runs = 0;
  await Promise.all(Array.from({ length: 30 }, (_, i) => withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 10_000, ...(i % 3 === 0 ? { owners } : {}) }, async () => {
    most = Math.max(most, ++inside);
    await sleep(1);
    inside--;
    runs++;
  })));
  assert.equal(runs, 30);
  assert.equal(most, 1, 'never two holders');
  await owners.removeAll(nodeFs);
  assert.deepEqual(await readdir(dir), []);
});
