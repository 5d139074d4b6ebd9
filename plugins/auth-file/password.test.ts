import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_SCRYPT, dummyHash, hashPassword, paramsProblem, parseHash, verifyPassword } from './password.ts';

void test('hash and verify round trip; a wrong password fails', async () => {
  const h = await hashPassword('correct horse');
  assert.equal(await verifyPassword('correct horse', h), true);
  assert.equal(await verifyPassword('correct horsE', h), false);
  assert.equal(await verifyPassword('', h), false);
});

void test('the hash is a PHC-style scrypt string with the default parameters, 16-byte salt and 32-byte key', async () => {
  const h = await hashPassword('pw');
  assert.match(h, /^\$scrypt\$ln=15,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const p = parseHash(h);
  assert.ok(p);
  assert.deepEqual({ ln: p.ln, r: p.r, p: p.p }, DEFAULT_SCRYPT);
  assert.equal(p.salt.length, 16);
  assert.equal(p.hash.length, 32);
  assert.ok(DEFAULT_SCRYPT.ln >= 15, 'N must be at least 2^15');
});

void test('each hash gets its own salt', async () => {
  const [a, b] = await Promise.all([hashPassword('same', { ln: 10, r: 8, p: 1 }), hashPassword('same', { ln: 10, r: 8, p: 1 })]);
  assert.notEqual(a, b);
});

void test('verification uses the parameters stored in the hash', async () => {
  const h = await hashPassword('pw', { ln: 11, r: 4, p: 2 });
  assert.match(h, /^\$scrypt\$ln=11,r=4,p=2\$/);
  assert.equal(await verifyPassword('pw', h), true);
});

void test('passwords are NFKC-normalised (as SASLprep does): composed and decomposed forms match', async () => {
  const h = await hashPassword('caf\u00e9', { ln: 10, r: 8, p: 1 });
  assert.equal(await verifyPassword('cafe\u0301', h), true);
});

void test('malformed or out-of-bounds stored hashes never verify', async () => {
  const good = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  for (const bad of [
    '', 'pw', '$2b$10$abcdefghijklmnopqrstuv', good.replace('$scrypt$', '$argon2id$'),
    good.replace('ln=10', 'ln=30'), good.replace('ln=10', 'ln=9'), good.replace('r=8', 'r=0'),
    good.replace('ln=10,r=8', 'ln=21,r=32'), // 8 GiB: refused, not attempted
    `${good}$extra`, good.replace(/\$[^$]+$/, '$!!!'),
  ]) {
    assert.equal(parseHash(bad), undefined, bad);
    assert.equal(await verifyPassword('pw', bad), false, bad);
  }
});

void test('parameter bounds', () => {
  assert.equal(paramsProblem(DEFAULT_SCRYPT), undefined);
  assert.match(paramsProblem({ ln: 20, r: 32, p: 1 }) ?? '', /MiB/);
  assert.match(paramsProblem({ ln: 15, r: 8, p: 0 }) ?? '', /^p /);
});

void test('the dummy hash matches no password', async () => {
  const d = dummyHash({ ln: 10, r: 8, p: 1 });
  assert.equal(await verifyPassword('', d), false);
  assert.equal(await verifyPassword('anything', d), false);
});

void test('over-long passwords are refused when hashing and fail when verifying', async () => {
  const h = await hashPassword('pw', { ln: 10, r: 8, p: 1 });
  await assert.rejects(hashPassword('x'.repeat(2000), { ln: 10, r: 8, p: 1 }), /longer than/);
  assert.equal(await verifyPassword('x'.repeat(2000), h), false);
});
