/** FolderLru: per-folder UID maps under one entry bound, least recently used folder evicted first. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FolderLru } from './cache.ts';

test('FolderLru keeps at most maxEntries, evicting the least recently used folder first, oldest entries first', () => {
  const lru = new FolderLru<string>(4);
  lru.set('a', 1, 'a1');
  lru.set('a', 2, 'a2');
  lru.set('b', 1, 'b1');
  lru.set('b', 2, 'b2');
  assert.equal(lru.size, 4);
  assert.equal(lru.get('a', 2), 'a2'); // folder a is now the most recently used
  lru.set('c', 1, 'c1');
  assert.equal(lru.size, 4);
  assert.equal(lru.has('b', 1), false, 'b was the least recently used folder: its first entry went');
  assert.equal(lru.get('b', 2), 'b2');
  lru.set('c', 2, 'c2');
  assert.equal(lru.has('a', 1), false, 'then a (b was touched by the get): its oldest entry');
  assert.deepEqual([lru.get('a', 2), lru.get('b', 2), lru.get('c', 1), lru.get('c', 2)], ['a2', 'b2', 'c1', 'c2']);
  assert.equal(lru.size, 4);
});

test('FolderLru: replacing an entry does not count twice; one folder larger than the bound keeps its newest', () => {
  const lru = new FolderLru<number>(3);
  lru.set('f', 1, 1);
  lru.set('f', 1, 10);
  assert.equal(lru.size, 1);
  assert.equal(lru.get('f', 1), 10);
  for (let u = 2; u <= 10; u++) lru.set('f', u, u);
  assert.equal(lru.size, 3);
  assert.deepEqual([8, 9, 10].map((u) => lru.get('f', u)), [8, 9, 10]);
  assert.equal(lru.get('f', 7), undefined);
  assert.equal(lru.get('other', 1), undefined);
  lru.set('g', 1, 1);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('g', 1), 1);
});
