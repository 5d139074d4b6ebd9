import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import type { UserRecord } from '../../core/auth/user-directory.ts';
import { ConfigError, formatIssues } from '../../core/config/errors.ts';
import { resolvePlugins } from '../../core/plugin-loader.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import localDomains from './index.ts';
import { makeTestDirectory, testDirectoryPlugin } from './test-directory.ts';

const USERS: Array<string | UserRecord> = [
  'alice@example.test', 'bob@example.test', 'a+b@example.test', 'carol@other.test',
  'jörg@xn--bcher-kva.test', 'anna@bücher.test', { id: 'gone@example.test', disabled: true },
];

async function setup(config: Record<string, unknown> = {}, users = USERS) {
  const directory = makeTestDirectory(users);
  const h = await createPluginHarness({ plugins: [[testDirectoryPlugin(directory), {}], [localDomains, config]] });
  const rcpt = async (address: string) => {
    const tx = h.makeTransaction(h.makeSession());
    return h.hooks.smtp.rcptTo.call(tx, { address, args: {} }, tx.callTrace());
  };
  return { h, directory, rcpt };
}

const local = (user: string) => ({ kind: 'accept', targets: [{ kind: 'local', user }] });
const NO_SUCH_USER = { kind: 'reject', reply: { code: 550, enhanced: '5.1.1', text: 'No such user here' }, disconnect: false };

void test('a known user of a local domain is accepted with a local target', async () => {
  const { h, rcpt } = await setup();
  assert.deepEqual(await rcpt('alice@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('carol@other.test'), local('carol@other.test'));
  await h.close();
});

void test('an unknown user of a local domain gets exactly 550 5.1.1', async () => {
  const { h, rcpt } = await setup();
  const v = await rcpt('nobody@example.test');
  assert.deepEqual(v, NO_SUCH_USER);
  assert.deepEqual(v?.kind === 'reject' && v.reply, REPLY.noSuchUser);
  await h.close();
});

void test('a recipient in a non-local domain gets no opinion (the core decides: relay or 550 5.7.1)', async () => {
  const { h, rcpt } = await setup();
  assert.equal(await rcpt('someone@elsewhere.test'), undefined);
  assert.equal(await rcpt('alice@sub.example.test'), undefined);
  assert.equal(await rcpt('Postmaster'), undefined);
  assert.equal(await rcpt('bob@[192.0.2.1]'), undefined);
  assert.equal(await rcpt('not an address@@'), undefined);
  await h.close();
});

void test('local parts and domains are case-insensitive', async () => {
  const { h, rcpt, directory } = await setup();
  assert.deepEqual(await rcpt('ALICE@EXAMPLE.TEST'), local('alice@example.test'));
  assert.deepEqual(await rcpt('Alice@Example.Test.'), local('alice@example.test'));
  assert.ok(directory.lookups.every((id) => id === id.toLowerCase()), 'lookups use canonical lower-case ids');
  await h.close();
});

void test('plus-addressing: the tag is stripped for lookup; an exact user with the separator wins', async () => {
  const { h, rcpt } = await setup();
  assert.deepEqual(await rcpt('alice+news@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('Alice+News+More@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('a+b@example.test'), local('a+b@example.test'));
  assert.deepEqual(await rcpt('a+c@example.test'), NO_SUCH_USER);
  assert.deepEqual(await rcpt('nobody+x@example.test'), NO_SUCH_USER);
  const logged = h.logs.find((l) => l.event === 'local-domains.user' && l.tag === 'news');
  assert.equal(logged?.user, 'alice@example.test', 'the tag is kept (logged) for later folder delivery');
  await h.close();
});

void test('plusSeparator: other characters, and \'\' turns tags off', async () => {
  const dash = await setup({ plusSeparator: '-' });
  assert.deepEqual(await dash.rcpt('alice-news@example.test'), local('alice@example.test'));
  assert.deepEqual(await dash.rcpt('alice+news@example.test'), NO_SUCH_USER);
  await dash.h.close();
  const off = await setup({ plusSeparator: '' });
  assert.deepEqual(await off.rcpt('alice+news@example.test'), NO_SUCH_USER);
  assert.deepEqual(await off.rcpt('a+b@example.test'), local('a+b@example.test'));
  await off.h.close();
});

void test('quoted local parts are the same mailbox as unquoted ones', async () => {
  const { h, rcpt } = await setup();
  assert.deepEqual(await rcpt('"alice"@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('"Alice+x"@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('"john doe"@example.test'), NO_SUCH_USER);
  await h.close();
});

void test('IDNA: UTF-8 and A-label domains are the same, whichever form the directory uses', async () => {
  const { h, rcpt } = await setup();
  assert.deepEqual(await rcpt('Jörg@BÜCHER.test'), local('jörg@xn--bcher-kva.test'));
  assert.deepEqual(await rcpt('jörg@xn--bcher-kva.test'), local('jörg@xn--bcher-kva.test'));
  assert.deepEqual(await rcpt('anna@xn--bcher-kva.test'), local('anna@bücher.test'));
  assert.deepEqual(await rcpt('anna+tag@bücher.test'), local('anna@bücher.test'));
  assert.deepEqual(await rcpt('nobody@bücher.test'), NO_SUCH_USER);
  await h.close();
});

void test('a disabled user is refused like an unknown one', async () => {
  const { h, rcpt } = await setup();
  assert.deepEqual(await rcpt('gone@example.test'), NO_SUCH_USER);
  await h.close();
});

void test('default domains follow the directory as it changes', async () => {
  const users: Array<string | UserRecord> = ['alice@example.test'];
  const { h, rcpt } = await setup({}, users);
  assert.equal(await rcpt('dave@new.test'), undefined);
  users.push('dave@new.test');
  assert.deepEqual(await rcpt('dave@new.test'), local('dave@new.test'));
  await h.close();
});

void test('configured domains replace the directory\'s list', async () => {
  const { h, rcpt } = await setup({ domains: ['Example.TEST', 'bücher.test', 'empty.test'] });
  assert.deepEqual(await rcpt('alice@example.test'), local('alice@example.test'));
  assert.deepEqual(await rcpt('jörg@xn--bcher-kva.test'), local('jörg@xn--bcher-kva.test'));
  assert.equal(await rcpt('carol@other.test'), undefined, 'other.test has users but is not configured');
  assert.deepEqual(await rcpt('anyone@empty.test'), NO_SUCH_USER);
  await h.close();
});

void test('without a user directory the recipient is tempfailed (451 4.3.0), not accepted or refused', async () => {
  const h = await createPluginHarness({ plugins: [[localDomains, {}]] });
  const tx = h.makeTransaction(h.makeSession());
  const v = await h.hooks.smtp.rcptTo.call(tx, { address: 'alice@example.test', args: {} }, tx.callTrace());
  assert.equal(v?.kind, 'tempfail');
  assert.equal(v?.kind === 'tempfail' && v.reply.enhanced, '4.3.0');
  assert.ok(h.logs.some((l) => l.event === 'hook.error' && String(l.msg).includes('userDirectory')));
  await h.close();
});

void test('bad config is an error naming the key', async () => {
  const r = localDomains.config.safeParse({ domains: ['example.test', 'bad domain'], plusSeparator: '@' });
  assert.equal(r.success, false);
  const problems = formatIssues(r.error, ['plugins', 'local-domains']);
  assert.ok(problems.includes('plugins.local-domains.domains.1: "bad domain" is not a domain name'), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('plugins.local-domains.plusSeparator: ')), problems.join('\n'));
  await assert.rejects(
    resolvePlugins({ 'local-domains': { domains: ['[192.0.2.1]'] } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError && err.problems.includes('plugins.local-domains.domains.0: "[192.0.2.1]" is not a domain name'),
  );
  await assert.rejects(
    resolvePlugins({ 'local-domains': { domain: ['example.test'] } }, tmpdir()),
    (err: unknown) => err instanceof ConfigError && err.problems.some((p) => p.startsWith('plugins.local-domains') && p.includes('"domain"')),
  );
});
