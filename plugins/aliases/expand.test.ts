import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeLocal } from '../local-domains/address.ts';
import { resolveRecipient, type AliasDeps } from './expand.ts';
import { buildTable } from './table.ts';

/** Pure-level deps: users by canonical id, directory domains derived from them. */
function deps(opts: {
  aliases?: Record<string, string | string[]>;
  catchAll?: Record<string, string | string[]>;
  users?: string[];
  postmaster?: string;
  maxDepth?: number;
  maxTargets?: number;
}): AliasDeps {
  const users = opts.users ?? ['alice@example.test', 'bob@example.test', 'carol@other.test'];
  const { table } = buildTable({ inline: opts.aliases ?? {}, catchAll: opts.catchAll ?? {} });
  return {
    table,
    separators: '+',
    maxDepth: opts.maxDepth ?? 10,
    maxTargets: opts.maxTargets ?? 1000,
    ...(opts.postmaster ? { postmaster: opts.postmaster } : {}),
    directoryDomains: async () => new Set(users.map((u) => u.split('@')[1])),
    findUser: async (a) => {
      const whole = `${normalizeLocal(a.local)}@${a.domain}`;
      const base = `${normalizeLocal(a.local.split('+')[0])}@${a.domain}`;
      return users.find((u) => u === whole) ?? users.find((u) => u === base);
    },
    firstUser: async (domain) => (domain === undefined ? users[0] : users.find((u) => u.endsWith(`@${domain}`))),
  };
}
const L = (user: string) => ({ kind: 'local', user });
const R = (address: string) => ({ kind: 'remote', address });

void test('an alias expands to its targets; users and non-local domains pass', async () => {
  const d = deps({ aliases: { 'sales@example.test': ['alice@example.test', 'bob@example.test'] } });
  assert.deepEqual(await resolveRecipient('sales@example.test', d),
    { kind: 'targets', via: 'alias', targets: [L('alice@example.test'), L('bob@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('alice@example.test', d), { kind: 'pass' });
  assert.deepEqual(await resolveRecipient('nobody@example.test', d), { kind: 'pass' });
  assert.deepEqual(await resolveRecipient('sales@elsewhere.test', d), { kind: 'pass' });
  assert.deepEqual(await resolveRecipient('not an address@', d), { kind: 'pass' });
});

void test('recursion, duplicates folded, diamonds expanded once', async () => {
  const d = deps({
    aliases: {
      'all@example.test': ['sales@example.test', 'support@example.test', 'alice@example.test'],
      'sales@example.test': ['alice@example.test', 'team@example.test'],
      'support@example.test': ['team@example.test', 'carol@other.test'],
      'team@example.test': 'bob@example.test',
    },
  });
  const r = await resolveRecipient('all@example.test', d);
  assert.deepEqual(r, { kind: 'targets', via: 'alias', targets: [L('alice@example.test'), L('bob@example.test'), L('carol@other.test')], dropped: [] });
});

void test('a loop with no mailbox is an error naming the path', async () => {
  const d = deps({ aliases: { 'a@example.test': 'b@example.test', 'b@example.test': 'c@example.test', 'c@example.test': 'A@example.test' } });
  assert.deepEqual(await resolveRecipient('a@example.test', d),
    { kind: 'error', failure: 'loop', detail: 'a@example.test → b@example.test → c@example.test → a@example.test is a loop' });
  const self = deps({ aliases: { 'x@example.test': ['x@example.test', 'alice@example.test'] } });
  assert.equal((await resolveRecipient('x@example.test', self)).kind, 'error');
});

void test('an address inside its own expansion is final when it is a mailbox', async () => {
  const d = deps({ aliases: { 'alice@example.test': ['alice@example.test', 'alice@elsewhere.test'] } });
  assert.deepEqual(await resolveRecipient('Alice@example.test', d),
    { kind: 'targets', via: 'alias', targets: [L('alice@example.test'), R('alice@elsewhere.test')], dropped: [] });
  const mutual = deps({ aliases: { 'alice@example.test': 'bob@example.test', 'bob@example.test': 'alice@example.test' } });
  assert.deepEqual(await resolveRecipient('alice@example.test', mutual),
    { kind: 'targets', via: 'alias', targets: [L('alice@example.test')], dropped: [] });
});

void test('depth limit', async () => {
  const aliases = { 'l1@example.test': 'l2@example.test', 'l2@example.test': 'l3@example.test', 'l3@example.test': 'alice@example.test' };
  assert.equal((await resolveRecipient('l1@example.test', deps({ aliases, maxDepth: 3 }))).kind, 'targets');
  const r = await resolveRecipient('l1@example.test', deps({ aliases, maxDepth: 2 }));
  assert.deepEqual(r, { kind: 'error', failure: 'depth', detail: 'l1@example.test → l2@example.test → l3@example.test nests deeper than 2' });
  assert.equal((await resolveRecipient('l1@example.test', deps({ aliases, maxDepth: 1 }))).kind, 'error');
});

void test('target limit', async () => {
  const many = Array.from({ length: 5 }, (_, i) => `p${i}@elsewhere.test`);
  assert.equal((await resolveRecipient('list@example.test', deps({ aliases: { 'list@example.test': many }, maxTargets: 5 }))).kind, 'targets');
  assert.deepEqual(await resolveRecipient('list@example.test', deps({ aliases: { 'list@example.test': many }, maxTargets: 4 })),
    { kind: 'error', failure: 'too-many', detail: 'list@example.test expands to more than 4 targets' });
});

void test('forwarding: a target outside the local domains is remote, written as configured', async () => {
  const d = deps({ aliases: { 'fwd@example.test': ['Someone.Else@Elsewhere.test', 'someone.else@elsewhere.test', 'bob@example.test'] } });
  assert.deepEqual(await resolveRecipient('fwd@example.test', d), {
    kind: 'targets', via: 'alias',
    // Local parts of remote addresses may be case-sensitive (RFC 5321 §2.4): both are kept.
    targets: [R('Someone.Else@Elsewhere.test'), R('someone.else@elsewhere.test'), L('bob@example.test')], dropped: [],
  });
});

void test('postmaster and abuse always resolve', async () => {
  // Nothing configured: the first user of the domain.
  const d = deps({});
  assert.deepEqual(await resolveRecipient('postmaster@example.test', d), { kind: 'targets', via: 'postmaster', targets: [L('alice@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('ABUSE@Other.Test', d), { kind: 'targets', via: 'postmaster', targets: [L('carol@other.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('Postmaster', d), { kind: 'targets', via: 'postmaster', targets: [L('alice@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('somebody', d), { kind: 'pass' });
  // Configured: that address (which may be an alias or remote).
  const c = deps({ postmaster: 'ops@example.test', aliases: { 'ops@example.test': ['bob@example.test', 'noc@elsewhere.test'] } });
  assert.deepEqual(await resolveRecipient('postmaster@other.test', c), { kind: 'targets', via: 'postmaster', targets: [L('bob@example.test'), R('noc@elsewhere.test')], dropped: [] });
  // A catch-all beats the first-user fallback, not a configured postmaster.
  const ca = deps({ catchAll: { 'example.test': 'bob@example.test' } });
  assert.deepEqual(await resolveRecipient('abuse@example.test', ca), { kind: 'targets', via: 'postmaster', targets: [L('bob@example.test')], dropped: [] });
  // A real user or an explicit alias by that name wins.
  assert.deepEqual(await resolveRecipient('postmaster@example.test', deps({ users: ['postmaster@example.test', 'alice@example.test'] })), { kind: 'pass' });
  assert.deepEqual(await resolveRecipient('abuse@example.test', deps({ aliases: { 'abuse@example.test': 'bob@example.test' } })),
    { kind: 'targets', via: 'alias', targets: [L('bob@example.test')], dropped: [] });
  // An alias-only domain with no users falls back to the directory's first user.
  const ao = deps({ aliases: { 'info@alias-only.test': 'bob@example.test' } });
  assert.deepEqual(await resolveRecipient('postmaster@alias-only.test', ao), { kind: 'targets', via: 'postmaster', targets: [L('alice@example.test')], dropped: [] });
  // A postmaster target that is itself postmaster with no mailbox: a loop, not silence.
  assert.equal((await resolveRecipient('postmaster@example.test', deps({ postmaster: 'postmaster@example.test' }))).kind, 'error');
  // Role mailboxes inside an expansion resolve too.
  const inner = deps({ postmaster: 'bob@example.test', aliases: { 'ops@example.test': 'abuse@example.test' } });
  assert.deepEqual(await resolveRecipient('ops@example.test', inner), { kind: 'targets', via: 'alias', targets: [L('bob@example.test')], dropped: [] });
});

void test('catch-all: only when no user and no alias matches', async () => {
  const d = deps({ catchAll: { 'example.test': ['alice@example.test'] }, aliases: { 'sales@example.test': 'bob@example.test' } });
  assert.deepEqual(await resolveRecipient('random@example.test', d), { kind: 'targets', via: 'catch-all', targets: [L('alice@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('bob@example.test', d), { kind: 'pass' });
  assert.deepEqual(await resolveRecipient('sales@example.test', d), { kind: 'targets', via: 'alias', targets: [L('bob@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('random@other.test', d), { kind: 'pass' });
});

void test('an alias-only domain refuses strangers; dangling targets are skipped, then unknown', async () => {
  const d = deps({ aliases: { 'info@alias-only.test': ['alice@example.test', 'gone@example.test'], 'old@example.test': 'gone@example.test' } });
  assert.deepEqual(await resolveRecipient('who@alias-only.test', d), { kind: 'unknown', dropped: [] });
  assert.deepEqual(await resolveRecipient('info@alias-only.test', d), { kind: 'targets', via: 'alias', targets: [L('alice@example.test')], dropped: ['gone@example.test'] });
  assert.deepEqual(await resolveRecipient('old@example.test', d), { kind: 'unknown', dropped: ['gone@example.test'] });
});

void test('plus tags: the whole local part first, then without the tag; case-insensitive', async () => {
  const d = deps({ aliases: { 'sales@example.test': 'alice@example.test', 'sales+vip@example.test': 'bob@example.test' } });
  assert.deepEqual(await resolveRecipient('SALES+Q4@EXAMPLE.TEST', d), { kind: 'targets', via: 'alias', targets: [L('alice@example.test')], dropped: [] });
  assert.deepEqual(await resolveRecipient('Sales+VIP@example.test', d), { kind: 'targets', via: 'alias', targets: [L('bob@example.test')], dropped: [] });
});
