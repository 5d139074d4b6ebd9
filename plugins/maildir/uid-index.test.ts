import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FolderIndex, type IndexRecord, formatRecord, journalHeader, parseJournal, parseSnapshot } from './uid-index.ts';

const entry = (uid: number, base = `m${uid},S=10`) => ({ uid, base, info: '', modseq: uid + 1, date: 1_700_000_000_000 + uid, size: 10 });

test('snapshot round-trips, including names with spaces', () => {
  const index = new FolderIndex({ uidValidity: 77, uidNext: 1, highestModseq: 1 });
  index.apply({ op: 'add', entry: entry(1) });
  index.apply({ op: 'add', entry: { ...entry(2, 'odd name with spaces'), info: 'FS' } });
  index.apply({ op: 'expunge', uid: 1, modseq: 9 });
  const again = parseSnapshot(index.toSnapshot());
  assert.ok(again);
  assert.deepEqual(again.header, { uidValidity: 77, uidNext: 3, highestModseq: 9 });
  assert.deepEqual(again.uids(), [2]);
  assert.equal(again.entries.get(2)?.base, 'odd name with spaces');
  assert.equal(again.byBase.get('odd name with spaces'), 2);
  assert.equal(parseSnapshot('garbage\n'), undefined);
  assert.equal(parseSnapshot(index.toSnapshot().slice(0, -3)), undefined, 'a truncated snapshot is not trusted');
});

test('journal replay ignores a torn last line and another UIDVALIDITY', () => {
  const records: IndexRecord[] = [
    { op: 'add', entry: entry(1) },
    { op: 'flags', uid: 1, modseq: 5, info: 'S' },
    { op: 'add', entry: entry(2) },
  ];
  const text = journalHeader(7) + records.map(formatRecord).join('');
  const torn = text + '+ 3 4 5 6 - half';
  const parsed = parseJournal(torn, 7);
  assert.deepEqual(parsed.records, records);
  assert.equal(parsed.consumed, Buffer.byteLength(text));
  assert.deepEqual(parseJournal(text, 8).records, []);
});

test('replaying records over a snapshot that already has them changes nothing', () => {
  const records: IndexRecord[] = [
    { op: 'add', entry: entry(1) },
    { op: 'add', entry: entry(2) },
    { op: 'flags', uid: 2, modseq: 6, info: 'T' },
    { op: 'expunge', uid: 1, modseq: 7 },
  ];
  const index = new FolderIndex({ uidValidity: 1, uidNext: 1, highestModseq: 1 });
  for (const r of records) index.apply(r);
  const snapshot = index.toSnapshot();
  const replayed = parseSnapshot(snapshot);
  assert.ok(replayed);
  for (const r of records) replayed.apply(r);
  assert.equal(replayed.toSnapshot(), snapshot);
});

test('uids stay sorted after out-of-order adds and expunges', () => {
  const index = new FolderIndex({ uidValidity: 1, uidNext: 1, highestModseq: 1 });
  for (const uid of [5, 2, 9, 7]) index.apply({ op: 'add', entry: entry(uid) });
  assert.deepEqual(index.uids(), [2, 5, 7, 9]);
  index.apply({ op: 'expunge', uid: 5, modseq: 20 });
  index.apply({ op: 'add', entry: entry(11) });
  assert.deepEqual(index.uids(), [2, 7, 9, 11]);
  assert.equal(index.header.uidNext, 12);
});
