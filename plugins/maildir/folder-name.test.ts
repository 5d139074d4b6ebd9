import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { canonicalFolderName, folderDir, folderNameFromEntry, isInferior } from './folder-name.ts';
import { userDir } from './user-dir.ts';

const user = '/srv/mail/example.test/alice';

test('folder names map to one dot-directory inside the user Maildir', () => {
  assert.equal(folderDir(user, 'INBOX'), user);
  assert.equal(folderDir(user, 'inbox'), user);
  assert.equal(folderDir(user, 'Sent'), path.join(user, '.Sent'));
  assert.equal(folderDir(user, 'Lists.ietf'), path.join(user, '.Lists.ietf'));
  assert.equal(folderDir(user, 'Входящие архив'), path.join(user, '.Входящие архив'));
  assert.equal(canonicalFolderName('Inbox.Sub'), 'INBOX.Sub');
});

test('traversal and abusive names are rejected', () => {
  const bad = [
    '', '.', '..', '../x', 'a/../../b', '/etc', 'a/b', '..x', '.hidden', 'x.', 'a..b', '...',
    'a\u0000b', 'a\rb', 'a\nb', 'tab\there', '\u007f', '\u0085', 'a\\b', 'star*', 'per%cent',
    'x'.repeat(201),
  ];
  for (const name of bad) {
    assert.throws(() => folderDir(user, name), (err: Error & { code?: string }) => err.code === 'CANNOT' || err.code === 'LIMIT', name);
  }
});

test('directory entries: only single-dot directories with valid names are folders', () => {
  assert.equal(folderNameFromEntry('.Sent'), 'Sent');
  assert.equal(folderNameFromEntry('.a.b'), 'a.b');
  assert.equal(folderNameFromEntry('..pochta-deleted-1'), undefined);
  assert.equal(folderNameFromEntry('cur'), undefined);
  assert.equal(folderNameFromEntry('.INBOX'), undefined);
  assert.equal(folderNameFromEntry('.a\nb'), undefined);
  assert.ok(isInferior('a', 'a.b'));
  assert.ok(!isInferior('a', 'ab'));
});

test('user ids map below the root and cannot escape it', () => {
  assert.equal(userDir('/srv/mail', 'alice@Example.TEST'), '/srv/mail/example.test/alice');
  assert.equal(userDir('/srv/mail', 'first.last+tag@example.test'), '/srv/mail/example.test/first.last+tag');
  const bad = ['alice', '@example.test', 'alice@', '../x@example.test', '..@example.test', '.@example.test',
    'a/b@example.test', 'a@../etc', 'a@exa/mple.test', 'a@.', 'a@..', 'a\u0000@example.test', 'a\n@example.test',
    `${'x'.repeat(65)}@example.test`];
  for (const id of bad) assert.throws(() => userDir('/srv/mail', id), { code: 'CANNOT' }, id);
});
