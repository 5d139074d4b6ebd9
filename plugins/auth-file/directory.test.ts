import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rm, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { FileUserDirectory } from './directory.ts';
import { parseHash, verifyPassword, type ParsedHash } from './password.ts';
import { editUsersFile } from './users-file.ts';
import { fakeClock, fastHash, tempDir, usersYaml } from './test-helpers.ts';

function recordingLog() {
  const lines: Array<{ level: string; obj: Record<string, unknown> }> = [];
  const at = (level: string) => (obj: Record<string, unknown>) => { lines.push({ level, obj }); };
  return { lines, log: { info: at('info'), warn: at('warn'), error: at('error') } as any };
}

async function setup(text?: string, checkEveryMs = 1000) {
  const dir = await tempDir();
  const file = path.join(dir, 'users.yaml');
  if (text !== undefined) await writeFile(file, text);
  const clock = fakeClock();
  const { lines, log } = recordingLog();
  const d = new FileUserDirectory({ file, clock, checkEveryMs, hashParams: { ln: 10, r: 8, p: 1 }, log });
  await d.load();
  return { dir, file, clock, d, lines, done: () => rm(dir, { recursive: true, force: true }) };
}

void test('lookup, verify, list and domains', async () => {
  const s = await setup(await usersYaml({
    'Alice@Example.test': { password: 'a-pass', name: 'Alice' },
    'bob@other.test': { password: 'b-pass' },
    'carol@example.test': { password: 'c-pass', disabled: true },
  }));
  assert.deepEqual(await s.d.lookup('ALICE@example.test'), { id: 'alice@example.test', name: 'Alice' });
  assert.deepEqual(await s.d.lookup('carol@example.test'), { id: 'carol@example.test', disabled: true });
  assert.equal(await s.d.lookup('nobody@example.test'), undefined);
  assert.deepEqual(await s.d.verify('alice@EXAMPLE.test', 'a-pass'), { id: 'alice@example.test', name: 'Alice' });
  assert.equal(await s.d.verify('alice@example.test', 'b-pass'), undefined);
  assert.equal(await s.d.verify('nobody@example.test', 'a-pass'), undefined);
  assert.equal(await s.d.verify('carol@example.test', 'c-pass'), undefined, 'disabled users cannot log in');
  assert.deepEqual((await s.d.list()).map((u) => u.id), ['alice@example.test', 'bob@other.test', 'carol@example.test']);
  assert.deepEqual(await s.d.domains(), ['example.test', 'other.test']);
  await s.done();
});

void test('the bare local part resolves only when allowed and unambiguous', async () => {
  const s = await setup(await usersYaml({
    'alice@example.test': { password: 'x' }, 'bob@example.test': { password: 'x' }, 'bob@other.test': { password: 'x' },
  }));
  assert.equal(await s.d.resolveLogin('Alice@Example.TEST', false), 'alice@example.test');
  assert.equal(await s.d.resolveLogin('alice', false), undefined);
  assert.equal(await s.d.resolveLogin('ALICE', true), 'alice@example.test');
  assert.equal(await s.d.resolveLogin('bob', true), undefined, 'ambiguous');
  assert.equal(await s.d.resolveLogin('nobody', true), undefined);
  await s.done();
});

void test('an unknown user costs a full hash, like a known one (no timing oracle for existence)', async () => {
  // Counted, not timed: every verify runs exactly one scrypt, and an unknown user's is at the cost
  // new hashes get (hashParams), so its answer takes what a known user's takes.
  const dir = await tempDir();
  const file = path.join(dir, 'users.yaml');
  await writeFile(file, await usersYaml({ 'alice@example.test': { password: 'x' }, 'carol@example.test': { password: 'x', disabled: true } }));
  const hashes: Array<{ ln: number; r: number; p: number }> = [];
  const counting = async (password: string, stored: string | ParsedHash) => {
    const h = typeof stored === 'string' ? parseHash(stored) : stored;
    assert.ok(h, 'a well-formed hash is checked');
    hashes.push({ ln: h.ln, r: h.r, p: h.p });
    return verifyPassword(password, stored);
  };
  const hashParams = { ln: 10, r: 8, p: 1 };
  const d = new FileUserDirectory({ file, clock: fakeClock(), checkEveryMs: 1000, hashParams, log: recordingLog().log, verifyPassword: counting });
  await d.load();
  assert.equal(await d.verify('nobody@example.test', 'x'), undefined);
  assert.deepEqual(hashes, [hashParams], 'the unknown user cost one scrypt at the configured cost');
  assert.equal(await d.verify('alice@example.test', 'wrong'), undefined);
  assert.equal(await d.verify('carol@example.test', 'x'), undefined, 'disabled');
  assert.equal(await d.verify('alice@example.test', 'x').then((u) => u?.id), 'alice@example.test');
  assert.equal(hashes.length, 4, 'one scrypt per answer, known, unknown or disabled alike');
  await rm(dir, { recursive: true, force: true });
});

void test('a change to the file is picked up at the next check, without a restart', async () => {
  const s = await setup(await usersYaml({ 'alice@example.test': { password: 'old' } }));
  await editUsersFile(s.file, { op: 'add', id: 'bob@example.test', password: await fastHash('new') });
  await editUsersFile(s.file, { op: 'passwd', id: 'alice@example.test', password: await fastHash('changed') });
  assert.equal(await s.d.lookup('bob@example.test'), undefined, 'not before the check interval');
  s.clock.advance(1000);
  assert.ok(await s.d.lookup('bob@example.test'));
  assert.ok(await s.d.verify('alice@example.test', 'changed'));
  assert.equal(await s.d.verify('alice@example.test', 'old'), undefined);
  assert.ok(s.lines.some((l) => l.obj.event === 'auth-file.reloaded'));
  await s.done();
});

void test('checkEveryMs 0 checks on every call; an in-place rewrite is noticed too', async () => {
  const s = await setup(await usersYaml({ 'alice@example.test': { password: 'x' } }), 0);
  await writeFile(s.file, await usersYaml({ 'alice@example.test': { password: 'x' }, 'zed@example.test': { password: 'y' } }));
  assert.ok(await s.d.lookup('zed@example.test'));
  await s.done();
});

void test('an invalid new version is logged once and the previous users stay', async () => {
  const s = await setup(await usersYaml({ 'alice@example.test': { password: 'x' } }), 0);
  await writeFile(s.file, 'users:\n  alice@example.test:\n    password: plaintext\n');
  assert.ok(await s.d.verify('alice@example.test', 'x'));
  assert.ok(await s.d.lookup('alice@example.test'));
  assert.equal(s.lines.filter((l) => l.obj.event === 'auth-file.invalid').length, 1);
  assert.equal(s.lines.find((l) => l.obj.event === 'auth-file.invalid')?.level, 'error');
  await s.done();
});

void test('a missing file means no users (and a warning); creating it later adds them', async () => {
  const s = await setup(undefined, 0);
  assert.ok(s.lines.some((l) => l.obj.event === 'auth-file.missing' && l.level === 'warn'));
  assert.deepEqual(await s.d.list(), []);
  await editUsersFile(s.file, { op: 'add', id: 'alice@example.test', password: await fastHash('x') });
  assert.ok(await s.d.verify('alice@example.test', 'x'));
  await unlink(s.file);
  assert.deepEqual(await s.d.list(), []);
  await s.done();
});

void test('an invalid file at start is an error naming the file', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'users.yaml');
  await writeFile(file, 'users:\n  nope:\n    password: x\n');
  const d = new FileUserDirectory({ file, clock: fakeClock(), checkEveryMs: 0, hashParams: { ln: 10, r: 8, p: 1 }, log: recordingLog().log });
  await assert.rejects(d.load(), (e: Error) => e.message.includes(file) && /invalid address/.test(e.message));
  await rm(dir, { recursive: true, force: true });
});
