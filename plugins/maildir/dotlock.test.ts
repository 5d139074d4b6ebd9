import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { withDotlock } from './dotlock.ts';
import { nodeFs } from './fs-port.ts';

test('a lock left by a process that died (kill -9) is broken at once, not after staleMs', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pochta-dotlock-'));
  try {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    const lock = path.join(dir, 'x.lock');
    await writeFile(lock, `${dead} ${os.hostname()}\n`);
    let ran = false;
    await withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 2000 }, async () => { ran = true; });
    assert.equal(ran, true);
    await assert.rejects(access(lock), 'released afterwards');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a lock held by a live process (or another host) is waited for, then refused', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pochta-dotlock-'));
  try {
    const lock = path.join(dir, 'x.lock');
    await writeFile(lock, `1 ${os.hostname()}\n`);
    await assert.rejects(withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 200 }, async () => {}), /locked/);
    await writeFile(lock, `999999 some-other-host\n`);
    await assert.rejects(withDotlock(nodeFs, lock, { staleMs: 60_000, timeoutMs: 200 }, async () => {}), /locked/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
