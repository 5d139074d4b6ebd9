import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { AuthAttempt, Credentials } from '../../core/auth/types.ts';
import { USER_DIRECTORY } from '../../core/auth/user-directory.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { configTable } from '../../core/docs/config-table.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import authFile from './index.ts';
import { editUsersFile } from './users-file.ts';
import { fakeClock, fastHash, tempDir, usersYaml } from './test-helpers.ts';

const USERS = {
  'Alice@Example.test': { password: 'alice-secret-1', name: 'Alice' },
  'bob@example.test': { password: 'bob-secret-22' },
  'bob@other.test': { password: 'bob-secret-33' },
  'carol@example.test': { password: 'carol-secret', disabled: true },
};

async function setup(config: Record<string, unknown> = {}, users: Record<string, { password: string; name?: string; disabled?: boolean }> = USERS) {
  const dataDir = await tempDir();
  await writeFile(path.join(dataDir, 'users.yaml'), await usersYaml(users));
  const clock = fakeClock();
  const h = await createPluginHarness({ plugins: [[authFile, config]], dataDir, clock });
  let n = 0;
  const verify = (username: string, password: string, o: { ip?: string; authzid?: string } = {}) => {
    const attempt: AuthAttempt = { protocol: 'smtp', mechanism: 'PLAIN', remoteAddress: o.ip ?? '192.0.2.10', secure: true, sessionId: `S${++n}` };
    const creds: Credentials = { username, password, ...(o.authzid !== undefined ? { authzid: o.authzid } : {}) };
    return h.hooks.auth.verify.call(attempt, creds);
  };
  return {
    h, clock, verify, dataDir,
    async done() {
      await h.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

void test('auth.verify: the right password logs in with the canonical id; wrong, unknown and disabled fail', async () => {
  const s = await setup();
  assert.deepEqual(await s.verify('alice@example.test', 'alice-secret-1'), { kind: 'ok', user: 'alice@example.test' });
  assert.deepEqual(await s.verify('ALICE@EXAMPLE.TEST', 'alice-secret-1'), { kind: 'ok', user: 'alice@example.test' });
  assert.equal((await s.verify('alice@example.test', 'alice-secret-2'))?.kind, 'fail');
  assert.equal((await s.verify('nobody@example.test', 'alice-secret-1'))?.kind, 'fail');
  assert.equal((await s.verify('carol@example.test', 'carol-secret'))?.kind, 'fail');
  assert.equal((await s.verify('', ''))?.kind, 'fail');
  assert.equal((await s.verify(`${'x'.repeat(400)}@example.test`, 'x'))?.kind, 'fail');
  assert.equal(s.h.metrics.get('auth_file_logins_total', { result: 'ok' }), 2);
  assert.equal(s.h.metrics.get('auth_file_logins_total', { result: 'fail' }), 5);
  const reasons = s.h.logs.filter((l) => l.event === 'auth-file.failed').map((l) => l.why);
  assert.deepEqual(reasons, ['wrong password', 'no such user', 'user disabled', 'bare local part not accepted or ambiguous', 'login name too long']);
  await s.done();
});

void test('the bare local part logs in only with localPartLogin, and only when unambiguous', async () => {
  const off = await setup();
  assert.equal((await off.verify('alice', 'alice-secret-1'))?.kind, 'fail');
  await off.done();
  const on = await setup({ localPartLogin: true });
  assert.deepEqual(await on.verify('alice', 'alice-secret-1'), { kind: 'ok', user: 'alice@example.test' });
  assert.equal((await on.verify('bob', 'bob-secret-22'))?.kind, 'fail', 'bob is in two domains');
  assert.deepEqual(await on.verify('bob@other.test', 'bob-secret-33'), { kind: 'ok', user: 'bob@other.test' });
  await on.done();
});

void test('an authorization identity other than the user itself is refused (RFC 4616)', async () => {
  const s = await setup();
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1', { authzid: 'Alice@example.test' }))?.kind, 'ok');
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1', { authzid: '' }))?.kind, 'ok');
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1', { authzid: 'bob@example.test' }))?.kind, 'fail');
  await s.done();
});

void test('throttle: after N failures from an address, even the right password gets 454 4.7.0 until the lockout ends', async () => {
  const s = await setup({ throttle: { perIp: { maxFailures: 3, windowMs: 60_000, lockoutMs: 120_000 } } });
  for (const u of ['alice@example.test', 'bob@example.test', 'nobody@example.test']) assert.equal((await s.verify(u, 'guess'))?.kind, 'fail');
  const v = await s.verify('alice@example.test', 'alice-secret-1');
  assert.deepEqual(v, { kind: 'tempfail', reply: REPLY.authThrottled, reason: 'throttled (ip)' });
  assert.equal(v?.kind === 'tempfail' && v.reply?.code, 454);
  // Another address is not affected.
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1', { ip: '198.51.100.7' }))?.kind, 'ok');
  assert.equal(s.h.metrics.get('auth_file_logins_total', { result: 'throttled' }), 1);
  assert.ok(s.h.logs.some((l) => l.event === 'auth-file.failed' && Array.isArray(l.locked) && l.locked.includes('ip')));
  assert.ok(s.h.logs.some((l) => l.event === 'auth-file.throttled' && l.level === 40));
  s.clock.advance(119_999);
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1'))?.kind, 'tempfail');
  s.clock.advance(1);
  assert.deepEqual(await s.verify('alice@example.test', 'alice-secret-1'), { kind: 'ok', user: 'alice@example.test' });
  await s.done();
});

void test('throttle: failures for one username from many addresses lock that username', async () => {
  const s = await setup({ throttle: { perIp: { maxFailures: 0 }, perUser: { maxFailures: 4, windowMs: 60_000, lockoutMs: 60_000 } } });
  for (let i = 0; i < 4; i++) await s.verify('Alice@example.test', `guess${i}`, { ip: `203.0.113.${i}` });
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1', { ip: '203.0.113.200' }))?.kind, 'tempfail');
  assert.equal((await s.verify('bob@example.test', 'bob-secret-22', { ip: '203.0.113.200' }))?.kind, 'ok');
  s.clock.advance(60_000);
  assert.equal((await s.verify('alice@example.test', 'alice-secret-1'))?.kind, 'ok');
  await s.done();
});

void test('a user added to the file while running can log in after the next check', async () => {
  const s = await setup();
  const file = path.join(s.dataDir, 'users.yaml');
  await editUsersFile(file, { op: 'add', id: 'dave@example.test', password: await fastHash('dave-pass-1') });
  s.clock.advance(1000);
  assert.deepEqual(await s.verify('dave@example.test', 'dave-pass-1'), { kind: 'ok', user: 'dave@example.test' });
  await editUsersFile(file, { op: 'del', id: 'dave@example.test' });
  s.clock.advance(1000);
  assert.equal((await s.verify('dave@example.test', 'dave-pass-1'))?.kind, 'fail');
  await s.done();
});

void test('provides the USER_DIRECTORY service', async () => {
  const s = await setup();
  const dir = s.h.services.get(USER_DIRECTORY);
  assert.equal(s.h.services.providerOf(USER_DIRECTORY), 'auth-file');
  assert.deepEqual(await dir.lookup('alice@example.test'), { id: 'alice@example.test', name: 'Alice' });
  assert.deepEqual(await dir.verify('bob@other.test', 'bob-secret-33'), { id: 'bob@other.test' });
  assert.equal(await dir.verify('bob@other.test', 'bob-secret-22'), undefined);
  assert.deepEqual((await dir.list()).map((u) => u.id), ['alice@example.test', 'bob@example.test', 'bob@other.test', 'carol@example.test']);
  assert.deepEqual(await dir.domains(), ['example.test', 'other.test']);
  await s.done();
});

void test('the file path is taken from the data directory; JSON works too', async () => {
  const dataDir = await tempDir();
  await writeFile(path.join(dataDir, 'people.json'), JSON.stringify({ users: { 'eve@example.test': { password: await fastHash('eve-pass-1') } } }));
  const h = await createPluginHarness({ plugins: [[authFile, { file: 'people.json' }]], dataDir });
  assert.ok(await h.services.get(USER_DIRECTORY).lookup('eve@example.test'));
  await h.close();
  await rm(dataDir, { recursive: true, force: true });
});

void test('an invalid users file stops the start, naming the plugin and the problem', async () => {
  const dataDir = await tempDir();
  await writeFile(path.join(dataDir, 'users.yaml'), 'users:\n  alice@example.test:\n    password: hunter2\n');
  await assert.rejects(createPluginHarness({ plugins: [[authFile, {}]], dataDir }), /plugin auth-file failed to start: .*users\.yaml.*not a supported \$scrypt\$ hash/);
  await rm(dataDir, { recursive: true, force: true });
});

void test('no password ever reaches the log', async () => {
  const s = await setup({ throttle: { perIp: { maxFailures: 2 } } });
  await s.verify('alice@example.test', 'alice-secret-1');
  await s.verify('alice@example.test', 'wrong-but-secret-XYZ');
  await s.verify('nobody', 'another-secret-ABC');
  await s.verify('alice@example.test', 'third-secret-QQQ');
  const all = JSON.stringify(s.h.logs);
  for (const p of ['alice-secret-1', 'wrong-but-secret-XYZ', 'another-secret-ABC', 'third-secret-QQQ']) assert.ok(!all.includes(p), p);
  assert.ok(s.h.logs.length > 0);
  await s.done();
});

void test('config: strict, with defaults and a description for every key', () => {
  const c = authFile.config.parse({});
  assert.deepEqual(c, {
    file: 'users.yaml', reloadCheckMs: 1000, localPartLogin: false, minPasswordLength: 8,
    hash: { ln: 15, r: 8, p: 1 },
    throttle: {
      perIp: { maxFailures: 10, windowMs: 600_000, lockoutMs: 900_000 },
      perUser: { maxFailures: 20, windowMs: 600_000, lockoutMs: 900_000 },
    },
  });
  assert.throws(() => authFile.config.parse({ fil: 'x' }));
  assert.throws(() => authFile.config.parse({ hash: { ln: 14 } }), 'N below 2^15 is refused');
  assert.throws(() => authFile.config.parse({ hash: { ln: 20, r: 32 } }), /MiB/);
  assert.throws(() => authFile.config.parse({ throttle: { perIp: { max: 3 } } }));
});

/** Dotted keys of the schema with their description and default (from its JSON Schema). */
function schemaKeys(): Array<{ key: string; description?: string; default?: unknown }> {
  const out: Array<{ key: string; description?: string; default?: unknown }> = [];
  const walk = (node: any, prefix: string) => {
    for (const [k, v] of Object.entries<any>(node.properties ?? {})) {
      const key = prefix + k;
      out.push({ key, description: v.description, default: v.default });
      if (v.type === 'object') walk(v, `${key}.`);
    }
  };
  walk((authFile.config as any).toJSONSchema({ io: 'input' }), '');
  return out;
}

void test('README: the config table is the one scripts/gen-docs.ts generates from the schema', async () => {
  const readme = await readFile(new URL('./README.md', import.meta.url), 'utf8');
  const m = /<!-- config:start -->\n([\s\S]*?)\n<!-- config:end -->/.exec(readme);
  assert.ok(m, 'README has the generated config section');
  assert.equal(m[1], configTable(authFile.config));
  for (const { key, description } of schemaKeys()) assert.ok(description, `${key} has no .describe()`);
});
