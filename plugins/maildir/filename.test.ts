import assert from 'node:assert/strict';
import { test } from 'node:test';
import { curName, flagsToInfo, infoToFlags, parseFilename } from './filename.ts';
import { formatKeywords, keywordSlot, parseKeywords } from './keywords.ts';
import { UniqueNamer, sanitizeHost } from './unique-name.ts';

test('file names parse into base, sorted info letters and size', () => {
  assert.deepEqual(parseFilename('1700000000.M1P2Q3R4.host,S=1234:2,SRF'), {
    base: '1700000000.M1P2Q3R4.host,S=1234',
    info: 'FRS',
    size: 1234,
  });
  assert.deepEqual(parseFilename('123.abc.host'), { base: '123.abc.host', info: '', size: undefined });
  assert.deepEqual(parseFilename('123.abc.host:1,xyz'), { base: '123.abc.host', info: '', size: undefined });
  assert.equal(curName('b', 'S'), 'b:2,S');
});

test('flags ↔ info letters round-trip, keywords via the folder slots', () => {
  const slots = ['$Junk', 'work'];
  const index = (k: string): number | undefined => keywordSlot(slots, k);
  const flags = ['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft', '$Forwarded', 'work', '$junk'];
  const info = flagsToInfo(flags, index, '', slots);
  assert.equal(info, 'DFPRSTab');
  assert.deepEqual(infoToFlags(info, slots), ['\\Answered', '\\Deleted', '\\Draft', '\\Flagged', '\\Seen', '$Forwarded', '$Junk', 'work']);
  assert.equal(flagsToInfo([], index, '', slots), '');
});

test('letters another tool set, and keyword letters without a slot, survive a flag rewrite', () => {
  assert.equal(flagsToInfo(['\\Seen'], () => undefined, 'FXz', []), 'SXz');
});

test('dovecot-keywords format', () => {
  const slots = parseKeywords('0 $Junk\n2 later\nbad line\n30 toomany\n');
  assert.equal(slots[0], '$Junk');
  assert.equal(slots[1], undefined);
  assert.equal(slots[2], 'later');
  assert.equal(slots.length, 3);
  assert.equal(formatKeywords(slots), '0 $Junk\n2 later\n');
});

test('unique names follow the Maildir spec and escape the host', () => {
  const namer = new UniqueNamer('mx.example.test');
  const a = namer.next();
  const b = namer.next();
  assert.notEqual(a, b);
  assert.match(a, /^\d{10}\.M\d+P\d+Q1R[0-9a-f]{16}\.mx\.example\.test$/);
  assert.equal(sanitizeHost('a/b:c,d'), 'a\\057b\\072c\\054d');
});
