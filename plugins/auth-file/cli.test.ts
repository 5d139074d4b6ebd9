/**
 * The `pochta user` commands, run as a real child process of the real bin (core/cli/main.ts) with
 * `--config` pointing at a temporary config that enables auth-file, and the password piped on stdin.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { USER_DIRECTORY } from '../../core/auth/user-directory.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import { EXIT } from './cli.ts';
import authFile from './index.ts';
import { parseHash, verifyPassword } from './password.ts';
import { parseUsers } from './users-file.ts';
import { fakeClock, tempDir } from './test-helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const MAIN = path.join(ROOT, 'core', 'cli', 'main.ts');

interface Run { code: number | null; stdout: string; stderr: string; argv: string[] }

/** A temporary directory with a config enabling auth-file (with `section`) and `dataDir` inside it. */
async function setup(section: Record<string, unknown> = {}, dataDirName = 'data') {
  const root = await tempDir();
  const dataDir = path.join(root, dataDirName);
  const config = path.join(root, 'pochta.config.json');
  await writeFile(config, JSON.stringify({ dataDir, plugins: { 'auth-file': section } }));
  return {
    dataDir,
    file: path.join(dataDir, typeof section.file === 'string' ? section.file : 'users.yaml'),
    run: (args: string[], stdin?: string, onSpawn?: (pid: number) => Promise<void>) => run(config, args, stdin, onSpawn),
    done: () => rm(root, { recursive: true, force: true }),
  };
}

function run(config: string, args: string[], stdin?: string, onSpawn?: (pid: number) => Promise<void>): Promise<Run> {
  const argv = ['--import', 'tsx', MAIN, '--config', config, ...args];
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  void (async () => {
    if (onSpawn) await onSpawn(child.pid!);
    if (stdin === undefined) child.stdin.end();
    else child.stdin.end(stdin);
  })();
  return exited.then((code) => ({ code, stdout, stderr, argv }));
}

const usersOf = async (file: string) => parseUsers(await readFile(file, 'utf8'), 'yaml');

void test('user add: creates the data dir and a 0600 file, hashes with scrypt, reads the password from stdin', async () => {
  const s = await setup({}, 'not/yet/there');
  const r = await s.run(['user', 'add', 'Alice@Example.TEST', '--name', 'Alice A.'], 'correct horse battery\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `added alice@example.test (${s.file})\n`);
  assert.equal((await stat(s.file)).mode & 0o777, 0o600);
  const u = (await usersOf(s.file)).byId.get('alice@example.test');
  assert.ok(u);
  assert.equal(u.name, 'Alice A.');
  assert.match(u.password, /^\$scrypt\$ln=15,r=8,p=1\$/);
  assert.ok(parseHash(u.password));
  assert.equal(await verifyPassword('correct horse battery', u.password), true);
  assert.ok(!r.argv.join(' ').includes('correct horse'), 'the password never travels in argv');
  await s.done();
});

void test('the password is not in the process\'s command line while it runs', { skip: !existsSync('/proc/self/cmdline') }, async () => {
  const s = await setup();
  let cmdline = '';
  const r = await s.run(['user', 'add', 'bob@example.test'], 'bob-password-123\n', async (pid) => {
    await new Promise((res) => setTimeout(res, 200));
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(cmdline, /user\0add\0bob@example\.test/);
  assert.ok(!cmdline.includes('bob-password-123'));
  await s.done();
});

void test('there is no --password option', async () => {
  const s = await setup();
  const r = await s.run(['user', 'add', 'carol@example.test', '--password', 'carol-pass-1'], 'ignored-pass\n');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown option '--password'/);
  assert.equal(existsSync(s.file), false);
  for (const help of await Promise.all(['add', 'passwd'].map((sub) => s.run(['user', sub, '--help'])))) {
    assert.equal(help.code, 0);
    assert.doesNotMatch(help.stdout, /--pass/);
  }
  await s.done();
});

void test('passwd, list, del and their errors, with sysexits statuses', async () => {
  const s = await setup();
  // Two adds at once: the lock keeps both.
  const adds = await Promise.all([
    s.run(['user', 'add', 'alice@example.test', '--name', 'Alice'], 'first-password\n'),
    s.run(['user', 'add', 'zed@other.test', '--disabled'], 'zed-password\r\n'),
  ]);
  assert.deepEqual(adds.map((a) => a.code), [0, 0]);

  // Independent failures, run side by side.
  const [exists, badAddress, short, empty, noUser] = await Promise.all([
    s.run(['user', 'add', 'ALICE@example.test'], 'whatever-pass\n'),
    s.run(['user', 'add', 'not-an-address'], 'whatever-pass\n'),
    s.run(['user', 'add', 'short@example.test'], 'short\n'),
    s.run(['user', 'add', 'empty@example.test'], ''),
    s.run(['user', 'passwd', 'nobody@example.test'], 'second-password\n'),
  ]);
  assert.equal(exists.code, EXIT.exists);
  assert.equal(exists.stderr, 'error: user alice@example.test already exists (use `pochta user passwd` to change the password)\n');
  assert.equal(badAddress.code, EXIT.usage);
  assert.match(badAddress.stderr, /invalid address "not-an-address": missing "@"/);
  assert.equal(short.code, EXIT.dataErr);
  assert.match(short.stderr, /shorter than 8/);
  assert.equal(empty.code, EXIT.dataErr);
  assert.match(empty.stderr, /no password on stdin/);
  assert.equal(noUser.code, EXIT.noUser);
  assert.match(noUser.stderr, /no such user: nobody@example\.test/);

  let r = await s.run(['user', 'passwd', 'Alice@Example.test'], 'second-password\n');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(await verifyPassword('second-password', (await usersOf(s.file)).byId.get('alice@example.test')?.password ?? ''), true);

  r = await s.run(['user', 'list']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, `alice@example.test  Alice\n${'zed@other.test'.padEnd(18 + 2 + 5 + 2)}(disabled)\n`);
  r = await s.run(['user', 'list', '--json']);
  assert.deepEqual(JSON.parse(r.stdout), [
    { id: 'alice@example.test', name: 'Alice', disabled: false },
    { id: 'zed@other.test', name: null, disabled: true },
  ]);

  r = await s.run(['user', 'del', 'zed@other.test']);
  assert.equal(r.code, 0);
  assert.deepEqual([...(await usersOf(s.file)).byId.keys()], ['alice@example.test']);
  r = await s.run(['user', 'del', 'zed@other.test']);
  assert.equal(r.code, EXIT.noUser);
  await s.done();
});

void test('list with no file yet prints nothing and says so on stderr; an invalid file is EX_CONFIG', async () => {
  const s = await setup();
  let r = await s.run(['user', 'list']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no users file yet/);
  await mkdir(s.dataDir, { recursive: true });
  await writeFile(s.file, 'users:\n  bad:\n    password: x\n');
  r = await s.run(['user', 'list']);
  assert.equal(r.code, EXIT.config);
  assert.match(r.stderr, /users\.yaml: users\.bad: invalid address/);
  await s.done();
});

void test('the plugin config applies: file name and scrypt cost', async () => {
  const s = await setup({ file: 'accounts.json', hash: { ln: 16 } });
  const r = await s.run(['user', 'add', 'a@x.test'], 'a-long-password\n');
  assert.equal(r.code, 0, r.stderr);
  const tree = JSON.parse(await readFile(s.file, 'utf8'));
  assert.match(tree.users['a@x.test'].password, /^\$scrypt\$ln=16,r=8,p=1\$/);
  await s.done();
});

void test('`pochta user add` on a running server takes effect without a restart', async () => {
  const s = await setup();
  const clock = fakeClock();
  const h = await createPluginHarness({ plugins: [[authFile, {}]], dataDir: s.dataDir, clock });
  const attempt = { protocol: 'smtp' as const, mechanism: 'LOGIN', remoteAddress: '192.0.2.1', secure: true, sessionId: 'S1' };
  assert.equal((await h.hooks.auth.verify.call(attempt, { username: 'new@example.test', password: 'brand-new-pass' }))?.kind, 'fail');
  const r = await s.run(['user', 'add', 'new@example.test'], 'brand-new-pass\n');
  assert.equal(r.code, 0, r.stderr);
  clock.advance(1000);
  assert.deepEqual(await h.hooks.auth.verify.call(attempt, { username: 'new@example.test', password: 'brand-new-pass' }), { kind: 'ok', user: 'new@example.test' });
  assert.ok(await h.services.get(USER_DIRECTORY).lookup('new@example.test'));
  await h.close();
  await s.done();
});
