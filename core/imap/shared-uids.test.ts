import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SharedUidLists } from './shared-uids.ts';

test('equal UID lists of one folder state are shared; a different list replaces the shared one', () => {
  const lists = new SharedUidLists();
  const a = lists.share('alice\u0000INBOX\u00001', [1, 2, 3]);
  const b = lists.share('alice\u0000INBOX\u00001', [1, 2, 3]);
  assert.equal(b, a, 'second session gets the same array');
  assert.ok(Object.isFrozen(a), 'a shared list cannot be changed in place');
  const c = lists.share('alice\u0000INBOX\u00001', [1, 2, 3, 4]);
  assert.notEqual(c, a);
  assert.deepEqual(c, [1, 2, 3, 4]);
  assert.equal(lists.share('alice\u0000INBOX\u00001', [1, 2, 3, 4]), c);
  // Another folder (or UIDVALIDITY) never gets this list.
  assert.notEqual(lists.share('alice\u0000INBOX\u00002', [1, 2, 3, 4]), c);
});
