import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { addressProblem } from './address.ts';
import { editUsersFile, editUsersText, formatOf, parseUsers, UsersFileError, withUsersLock, writeUsersText } from './users-file.ts';
import { fastHash, tempDir } from './test-helpers.ts';

const H = await fastHash('pw');

void test('parses YAML and JSON; ids are lower-cased; name and disabled are kept', () => {
  const yaml = `users:\n  Alice@Example.TEST:\n    password: "${H}"\n    name: Alice\n  bob@example.test:\n    password: "${H}"\n    disabled: true\n`;
  const u = parseUsers(yaml, 'yaml');
  assert.deepEqual([...u.byId.keys()], ['alice@example.test', 'bob@example.test']);
  assert.equal(u.byId.get('alice@example.test')?.name, 'Alice');
  assert.equal(u.byId.get('bob@example.test')?.disabled, true);
  assert.deepEqual(u.byLocal.get('alice'), ['alice@example.test']);
  const json = JSON.stringify({ users: { 'carol@example.test': { password: H } } });
  assert.deepEqual([...parseUsers(json, 'json').byId.keys()], ['carol@example.test']);
  assert.equal(parseUsers('', 'yaml').byId.size, 0);
  assert.equal(parseUsers('users:\n', 'yaml').byId.size, 0);
  assert.equal(formatOf('/x/users.JSON'), 'json');
  assert.equal(formatOf('/x/users.yml'), 'yaml');
});

void test('invalid files are refused with the problem named', () => {
  const bad: Array<[string, RegExp]> = [
    [`users:\n  alice@example.test:\n    password: plain\n`, /users\.alice@example\.test\.password: not a supported \$scrypt\$ hash/],
    [`users:\n  alice:\n    password: "${H}"\n`, /users\.alice: invalid address/],
    [`users:\n  a@x.test:\n    password: "${H}"\n  A@X.test:\n    password: "${H}"\n`, /same address/],
    [`users:\n  a@x.test:\n    password: "${H}"\n    pasword: typo\n`, /pasword|Unrecognized/i],
    [`usres: {}\n`, /usres|Unrecognized/i],
    [`users:\n  a@x.test: [\n`, /not valid YAML/],
    [`users:\n  a@x.test:\n    password: "${H}"\n  a@x.test:\n    password: "${H}"\n`, /not valid YAML/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseUsers(text, 'yaml'), (e: unknown) => e instanceof UsersFileError && re.test(e.message), text);
  assert.throws(() => parseUsers('{', 'json'), /not valid JSON/);
});

void test('address validation', () => {
  for (const ok of ['alice@example.test', 'a.b+tag@sub.example.test', 'root@localhost', 'üser@example.test', 'x@xn--bcher-kva.example']) {
    assert.equal(addressProblem(ok), undefined, ok);
  }
  for (const bad of ['alice', '@example.test', 'alice@', 'a..b@example.test', 'a b@example.test', '"q"@example.test', 'a@-bad.test', 'a@exa_mple.test', `${'x'.repeat(65)}@example.test`]) {
    assert.ok(addressProblem(bad), bad);
  }
});

void test('edits keep the rest of a YAML file (comments, other users) and match keys case-insensitively', async () => {
  const H2 = await fastHash('other');
  const text = `# our users\nusers:\n  # the boss\n  Alice@Example.test:\n    password: "${H}"\n    name: Alice # dear\n`;
  let out = editUsersText(text, 'yaml', { op: 'add', id: 'bob@example.test', password: H, name: 'Bob' });
  assert.match(out, /# our users/);
  assert.match(out, /# the boss/);
  assert.match(out, /# dear/);
  out = editUsersText(out, 'yaml', { op: 'passwd', id: 'alice@example.test', password: H2 });
  assert.equal(parseUsers(out, 'yaml').byId.get('alice@example.test')?.password, H2);
  assert.equal(parseUsers(out, 'yaml').byId.get('alice@example.test')?.name, 'Alice');
  out = editUsersText(out, 'yaml', { op: 'del', id: 'alice@example.test' });
  assert.deepEqual([...parseUsers(out, 'yaml').byId.keys()], ['bob@example.test']);
  assert.match(out, /# our users/);
});

void test('a one-line `users: {}` gets one entry per line', () => {
  const out = editUsersText('users: {}\n', 'yaml', { op: 'add', id: 'a@x.test', password: H });
  assert.match(out, /^users:\n {2}a@x\.test:\n/m);
});

void test('edits of JSON files stay JSON', () => {
  let out = editUsersText(undefined, 'json', { op: 'add', id: 'a@x.test', password: H, disabled: true });
  out = editUsersText(out, 'json', { op: 'add', id: 'b@x.test', password: H });
  assert.deepEqual(JSON.parse(out), { users: { 'a@x.test': { password: H, disabled: true }, 'b@x.test': { password: H } } });
});

void test('add of an existing user, passwd or del of a missing one fail with their codes', () => {
  const text = `users:\n  A@x.test:\n    password: "${H}"\n`;
  assert.throws(() => editUsersText(text, 'yaml', { op: 'add', id: 'a@x.test', password: H }), (e: any) => e.code === 'exists');
  assert.throws(() => editUsersText(text, 'yaml', { op: 'passwd', id: 'b@x.test', password: H }), (e: any) => e.code === 'missing');
  assert.throws(() => editUsersText(text, 'yaml', { op: 'del', id: 'b@x.test' }), (e: any) => e.code === 'missing');
  assert.throws(() => editUsersText(undefined, 'yaml', { op: 'del', id: 'b@x.test' }), (e: any) => e.code === 'missing');
});

void test('an edit never produces a file the server would refuse, but may repair the entry it touches', () => {
  assert.throws(() => editUsersText(undefined, 'yaml', { op: 'add', id: 'a@x.test', password: 'plain' }), /not a supported/);
  const broken = `users:\n  a@x.test:\n    password: plain\n`;
  const fixed = editUsersText(broken, 'yaml', { op: 'passwd', id: 'a@x.test', password: H });
  assert.equal(parseUsers(fixed, 'yaml').byId.size, 1);
});

void test('writes are atomic, mode 0600, create the directory, and leave no temp files', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'nested', 'data', 'users.yaml');
  await writeUsersText(file, 'users: {}\n');
  await writeFile(file, 'users: {}\n', { mode: 0o644 }); // a looser mode gets tightened on the next write
  await writeUsersText(file, 'users:\n');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(file))).mode & 0o077, 0);
  assert.equal(await readFile(file, 'utf8'), 'users:\n');
  assert.deepEqual(await readdir(path.dirname(file)), ['users.yaml']);
  await rm(dir, { recursive: true, force: true });
});

void test('concurrent edits through the lock lose nothing', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'users.yaml');
  await Promise.all(Array.from({ length: 8 }, (_, i) => editUsersFile(file, { op: 'add', id: `u${i}@x.test`, password: H })));
  const u = parseUsers(await readFile(file, 'utf8'), 'yaml');
  assert.equal(u.byId.size, 8);
  assert.deepEqual(await readdir(dir), ['users.yaml']);
  await rm(dir, { recursive: true, force: true });
});

void test('a held lock makes the next writer give up with code locked; a stale one is taken over', async () => {
  const dir = await tempDir();
  const file = path.join(dir, 'users.yaml');
  await withUsersLock(file, async () => {
    await assert.rejects(withUsersLock(file, async () => undefined, { waitMs: 100 }), (e: any) => e.code === 'locked');
    assert.equal(await withUsersLock(file, async () => 'took it', { waitMs: 100, staleMs: 0 }), 'took it');
  });
  await rm(dir, { recursive: true, force: true });
});
