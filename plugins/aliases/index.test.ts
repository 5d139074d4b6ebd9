import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UserRecord } from '../../core/auth/user-directory.ts';
import { ConfigError, formatIssues } from '../../core/config/errors.ts';
import type { PluginDefinition } from '../../core/plugin.ts';
import { resolvePlugins } from '../../core/plugin-loader.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import localDomains from '../local-domains/index.ts';
import { makeTestDirectory, testDirectoryPlugin } from '../local-domains/test-directory.ts';
import aliases from './index.ts';

const USERS: Array<string | UserRecord> = ['alice@example.test', 'bob@example.test', 'carol@other.test', { id: 'dora@example.test', disabled: true }];

/** The default chain: directory, aliases, then local-domains, as in the embedded config. */
async function setup(config: Record<string, unknown> = {}, opts: { users?: Array<string | UserRecord>; dataDir?: string; directory?: boolean } = {}) {
  const directory = makeTestDirectory(opts.users ?? USERS);
  const plugins: Array<[PluginDefinition<any>, Record<string, unknown>]> = [];
  if (opts.directory !== false) plugins.push([testDirectoryPlugin(directory), {}]);
  plugins.push([aliases, config], [localDomains, {}]);
  const h = await createPluginHarness({ ...(opts.dataDir ? { dataDir: opts.dataDir } : {}), plugins });
  const rcpt = async (address: string) => {
    const tx = h.makeTransaction(h.makeSession());
    const v = await h.hooks.smtp.rcptTo.call(tx, { address, args: {} }, tx.callTrace());
    return { v, by: tx.trace.at(-1)?.plugin };
  };
  return { h, rcpt };
}

const local = (...users: string[]) => ({ kind: 'accept', targets: users.map((user) => ({ kind: 'local', user })) });
const NO_SUCH_USER = { kind: 'reject', reply: { code: 550, enhanced: '5.1.1', text: 'No such user here' }, disconnect: false };
const TEMPFAIL = { kind: 'tempfail', reply: REPLY.tempLocal, disconnect: false };

const CONFIG = {
  aliases: {
    'sales@example.test': ['alice@example.test', 'bob@example.test'],
    'info@example.test': 'alice@example.test',
    'team@example.test': ['sales@example.test', 'carol@other.test'],
    'fwd@example.test': ['bob@example.test', 'Bob.Private@elsewhere.test'],
    'loop1@example.test': 'loop2@example.test',
    'loop2@example.test': 'loop1@example.test',
    'kontakt@bücher.test': 'alice@example.test',
  },
};

void test('an alias expands to local targets; the chain stops at aliases', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual(await rcpt('sales@example.test'), { v: local('alice@example.test', 'bob@example.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('info@example.test'), { v: local('alice@example.test'), by: 'aliases' });
  await h.close();
});

void test('recursive expansion across domains', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual((await rcpt('team@example.test')).v, local('alice@example.test', 'bob@example.test', 'carol@other.test'));
  await h.close();
});

void test('case-insensitive, plus-addressed and IDNA alias addresses', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual((await rcpt('SALES@Example.TEST')).v, local('alice@example.test', 'bob@example.test'));
  assert.deepEqual((await rcpt('sales+newsletter@example.test')).v, local('alice@example.test', 'bob@example.test'));
  assert.deepEqual((await rcpt('"Sales"@example.test')).v, local('alice@example.test', 'bob@example.test'));
  assert.deepEqual((await rcpt('Kontakt@xn--bcher-kva.test')).v, local('alice@example.test'));
  await h.close();
});

void test('a loop is a 451 4.3.0 tempfail with the path in the log', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual(await rcpt('loop1@example.test'), { v: TEMPFAIL, by: 'aliases' });
  const line = h.logs.find((l) => l.event === 'aliases.loop');
  assert.equal(line?.detail, 'loop1@example.test → loop2@example.test → loop1@example.test is a loop');
  assert.equal(line?.plugin, 'aliases');
  await h.close();
});

void test('an external target becomes a remote target (forwarding)', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual((await rcpt('fwd@example.test')).v, {
    kind: 'accept',
    targets: [{ kind: 'local', user: 'bob@example.test' }, { kind: 'remote', address: 'Bob.Private@elsewhere.test' }],
  });
  await h.close();
});

void test('users, unknown users and foreign domains go on to local-domains and the core', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual(await rcpt('alice+x@example.test'), { v: local('alice@example.test'), by: 'local-domains' });
  assert.deepEqual(await rcpt('nobody@example.test'), { v: NO_SUCH_USER, by: 'local-domains' });
  assert.deepEqual(await rcpt('dora@example.test'), { v: NO_SUCH_USER, by: 'local-domains' });
  assert.deepEqual(await rcpt('someone@elsewhere.test'), { v: undefined, by: 'local-domains' });
  await h.close();
});

void test('postmaster@ and abuse@ of every local domain resolve without any config', async () => {
  const { h, rcpt } = await setup({});
  assert.deepEqual(await rcpt('postmaster@example.test'), { v: local('alice@example.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('PostMaster@EXAMPLE.test'), { v: local('alice@example.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('abuse@other.test'), { v: local('carol@other.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('Postmaster'), { v: local('alice@example.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('postmaster@elsewhere.test'), { v: undefined, by: 'local-domains' });
  assert.equal(h.logs.filter((l) => l.event === 'aliases.postmaster-fallback').length, 1, 'the fallback is pointed out once');
  await h.close();
});

void test('postmaster: a configured target, and a disabled first user is skipped', async () => {
  const { h, rcpt } = await setup({ postmaster: 'bob@example.test' });
  assert.deepEqual((await rcpt('abuse@other.test')).v, local('bob@example.test'));
  await h.close();
  const d = await setup({}, { users: [{ id: 'admin@example.test', disabled: true }, 'zed@example.test'] });
  assert.deepEqual((await d.rcpt('postmaster@example.test')).v, local('zed@example.test'));
  await d.h.close();
});

void test('catch-all applies only when no user and no alias matches', async () => {
  const { h, rcpt } = await setup({ ...CONFIG, catchAll: { 'example.test': 'alice@example.test', 'other.test': ['owner@elsewhere.test'] } });
  assert.deepEqual(await rcpt('whatever@example.test'), { v: local('alice@example.test'), by: 'aliases' });
  assert.deepEqual(await rcpt('bob@example.test'), { v: local('bob@example.test'), by: 'local-domains' });
  assert.deepEqual((await rcpt('sales@example.test')).v, local('alice@example.test', 'bob@example.test'));
  assert.deepEqual((await rcpt('x@other.test')).v, { kind: 'accept', targets: [{ kind: 'remote', address: 'owner@elsewhere.test' }] });
  await h.close();
});

void test('a domain only the alias map names is local: strangers there get 550 5.1.1 from aliases', async () => {
  const { h, rcpt } = await setup(CONFIG);
  assert.deepEqual(await rcpt('stranger@bücher.test'), { v: NO_SUCH_USER, by: 'aliases' });
  assert.deepEqual(await rcpt('postmaster@bücher.test'), { v: local('alice@example.test'), by: 'aliases' });
  await h.close();
});

void test('a target naming nobody is skipped with a warning; with nothing left the alias is unknown', async () => {
  const { h, rcpt } = await setup({ aliases: { 'pair@example.test': ['alice@example.test', 'left@example.test'], 'solo@example.test': 'left@example.test' } });
  assert.deepEqual((await rcpt('pair@example.test')).v, local('alice@example.test'));
  assert.ok(h.logs.some((l) => l.event === 'aliases.dangling' && JSON.stringify(l.dropped) === '["left@example.test"]'));
  assert.deepEqual(await rcpt('solo@example.test'), { v: NO_SUCH_USER, by: 'aliases' });
  await h.close();
});

void test('without a user directory aliases still forward', async () => {
  const h = await createPluginHarness({ plugins: [[aliases, { aliases: { 'me@example.test': 'me@elsewhere.test' } }]] });
  const tx = h.makeTransaction(h.makeSession());
  const v = await h.hooks.smtp.rcptTo.call(tx, { address: 'me@example.test', args: {} }, tx.callTrace());
  assert.deepEqual(v, { kind: 'accept', targets: [{ kind: 'remote', address: 'me@elsewhere.test' }] });
  await h.close();
});

async function until(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(25);
  }
}

void test('the alias file: loaded relative to the data dir, inline wins, reloaded on change, bad edits ignored', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-aliases-'));
  const file = path.join(dataDir, 'aliases.yaml');
  await writeFile(file, 'sales@example.test: [bob@example.test]\nhelp@example.test: carol@other.test\n');
  const { h, rcpt } = await setup({ file: 'aliases.yaml', aliases: { 'sales@example.test': 'alice@example.test' } }, { dataDir });
  try {
    assert.deepEqual((await rcpt('help@example.test')).v, local('carol@other.test'));
    assert.deepEqual((await rcpt('sales@example.test')).v, local('alice@example.test'));
    assert.ok(h.logs.some((l) => l.event === 'aliases.overridden' && l.alias === 'sales@example.test'));

    // An editor-style replace (write a temp file, rename it over the old one).
    await writeFile(`${file}.tmp`, '{"help@example.test": ["bob@example.test"], "new@example.test": "alice@example.test"}\n');
    await rename(`${file}.tmp`, file);
    await until(async () => JSON.stringify((await rcpt('help@example.test')).v) === JSON.stringify(local('bob@example.test')));
    assert.deepEqual((await rcpt('new@example.test')).v, local('alice@example.test'));
    assert.ok(h.logs.some((l) => l.event === 'aliases.reloaded'));

    // A bad edit is logged and the previous map stays.
    await writeFile(file, 'help@example.test: [not an address]\n');
    await until(async () => h.logs.some((l) => l.event === 'aliases.reload-failed'));
    const failed = h.logs.find((l) => l.event === 'aliases.reload-failed');
    assert.match(String(failed?.err), /help@example\.test\.0: "not an address" is not a mail address/);
    assert.deepEqual((await rcpt('help@example.test')).v, local('bob@example.test'));
  } finally {
    await h.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

void test('a missing or bad alias file stops the start, naming the file', async () => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-aliases-'));
  try {
    await assert.rejects(setup({ file: 'nope.yaml' }, { dataDir }), /plugin aliases failed to start: cannot read .*nope\.yaml: ENOENT/);
    await writeFile(path.join(dataDir, 'bad.yaml'), '- just\n- a list\n');
    await assert.rejects(setup({ file: 'bad.yaml' }, { dataDir }), /bad\.yaml: expected a mapping/);
    await writeFile(path.join(dataDir, 'bad.json'), '{"x": ');
    await assert.rejects(setup({ file: 'bad.json' }, { dataDir }), /bad\.json: not valid YAML or JSON/);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

void test('bad config is an error naming the key', async () => {
  const problems = (cfg: Record<string, unknown>) => {
    const r = aliases.config.safeParse(cfg);
    assert.equal(r.success, false);
    return formatIssues(r.error, ['plugins', 'aliases']);
  };
  assert.deepEqual(problems({ aliases: { 'not-an-address': 'alice@example.test' } }),
    ['plugins.aliases.aliases.not-an-address: "not-an-address" is not a mail address (local@domain)']);
  assert.deepEqual(problems({ aliases: { 'sales@example.test': ['alice@example.test', 'bob'] } }),
    ['plugins.aliases.aliases.sales@example.test.1: "bob" is not a mail address (local@domain)']);
  assert.deepEqual(problems({ aliases: { 'sales@example.test': [] } }),
    ['plugins.aliases.aliases.sales@example.test: an alias needs at least one target']);
  assert.deepEqual(problems({ aliases: { 'Sales@Example.test': 'a@example.test', 'sales@example.test': 'b@example.test' } }),
    ['plugins.aliases.aliases.sales@example.test: the same alias as "Sales@Example.test"']);
  assert.deepEqual(problems({ catchAll: { 'not a domain': 'alice@example.test' } }),
    ['plugins.aliases.catchAll.not a domain: "not a domain" is not a domain name']);
  assert.deepEqual(problems({ postmaster: 'postmaster' }),
    ['plugins.aliases.postmaster: "postmaster" is not a mail address (local@domain)']);
  assert.ok(problems({ maxDepth: 0 })[0].startsWith('plugins.aliases.maxDepth: '));
  await assert.rejects(
    resolvePlugins({ aliases: { alias: {} } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('plugins.aliases') && p.includes('"alias"')),
  );
});

void test('a domain local only by local-domains config still gets postmaster@ (shared LOCAL_DOMAINS service)', async () => {
  const directory = makeTestDirectory(['alice@example.test']);
  const h = await createPluginHarness({
    plugins: [[testDirectoryPlugin(directory), {}], [aliases, { postmaster: 'alice@example.test' }], [localDomains, { domains: ['example.test', 'empty.test'] }]],
  });
  const tx = h.makeTransaction(h.makeSession());
  const v = await h.hooks.smtp.rcptTo.call(tx, { address: 'postmaster@empty.test', args: {} }, tx.callTrace());
  assert.deepEqual(v, local('alice@example.test'));
  await h.close();
});
