import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFlagChange, canonicalFlag, isValidKeyword, normalizeFlags, sameFlags } from './flags.ts';
import { lowerBound } from './mail-store.ts';

test('system flags are re-cased, keywords validated as IMAP atoms (RFC 3501 §9)', () => {
  assert.equal(canonicalFlag('\\SEEN'), '\\Seen');
  assert.equal(canonicalFlag('\\Recent'), undefined);
  assert.equal(canonicalFlag('\\Foo'), undefined);
  assert.equal(canonicalFlag('$Forwarded'), '$Forwarded');
  for (const bad of ['', 'a b', 'a(b', 'a)', 'a{', 'a%', 'a*', 'a"', 'a\\b', 'a]', 'é', 'a\u0001']) {
    assert.equal(isValidKeyword(bad), false, bad);
  }
  assert.ok(isValidKeyword('$Junk'));
  assert.ok(isValidKeyword('[x'));
});

test('normalizeFlags de-duplicates case-insensitively, system flags first', () => {
  assert.deepEqual(normalizeFlags(['work', '\\seen', '\\Seen', 'WORK', '\\Answered']), ['\\Answered', '\\Seen', 'work']);
  assert.throws(() => normalizeFlags(['\\Recent']), { code: 'CANNOT' });
});

test('STORE modes (RFC 3501 §6.4.6)', () => {
  const now = ['\\Seen', 'a'];
  assert.deepEqual(applyFlagChange(now, 'add', ['\\Flagged']), ['\\Flagged', '\\Seen', 'a']);
  assert.deepEqual(applyFlagChange(now, 'remove', ['A']), ['\\Seen']);
  assert.deepEqual(applyFlagChange(now, 'set', ['b']), ['b']);
  assert.ok(sameFlags(['\\Seen', 'a'], ['A', '\\seen']));
});

test('lowerBound finds the first UID at or above the key', () => {
  const uids = [1, 3, 5, 9];
  assert.equal(lowerBound(uids, 0), 0);
  assert.equal(lowerBound(uids, 3), 1);
  assert.equal(lowerBound(uids, 4), 2);
  assert.equal(lowerBound(uids, 10), 4);
});
