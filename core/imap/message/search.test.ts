// SEARCH over a real MaildirStore folder (RFC 3501 §6.4.4, RFC 7162 MODSEQ).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FolderView } from '../../store/mail-store.ts';
import type { SearchKey } from '../types.ts';
import { search, StructureCache } from './index.ts';
import { EIGHT_BIT, FORWARD, MISSING, NESTED, SIMPLE } from './test-messages.ts';
import { folderWith } from './test-support.ts';

async function setup(t: Parameters<typeof folderWith>[0], opts: { streamOnly?: boolean } = {}) {
  const { view, uids } = await folderWith(t, [
    { source: SIMPLE, flags: ['\\Seen', 'Work'], internalDate: new Date('2021-01-10T23:30:00Z') },
    { source: NESTED, flags: ['\\Flagged'], internalDate: new Date('2021-02-01T00:00:00Z') },
    { source: FORWARD, internalDate: new Date('2021-03-05T12:00:00Z') },
    { source: MISSING, flags: ['\\Seen', '\\Deleted'], internalDate: new Date('2021-03-06T12:00:00Z') },
    { source: EIGHT_BIT, internalDate: new Date('2021-04-01T00:00:00Z') },
  ]);
  // A wrapper over the real view that counts message reads (to check cheap keys decide first).
  let reads = 0;
  const counted = new Proxy(view, {
    get(target, prop) {
      if (prop === 'read') return (...a: Parameters<FolderView['read']>) => ((reads += 1), target.read(...a));
      // Whole small messages are read in batches: each message in a batch counts as one read.
      if (prop === 'readPrefixes' && opts.streamOnly) return undefined;
      if (prop === 'readPrefixes' && target.readPrefixes) {
        const batch = target.readPrefixes.bind(target);
        return (uids: readonly number[], ...rest: [number, (uid: number, bytes: Buffer | undefined) => void]) => ((reads += uids.length), batch(uids, ...rest));
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  const cache = new StructureCache();
  const run = (key: SearchKey, charset?: string) =>
    search(counted, key, { uids, seqOf: (u) => uids.indexOf(u) + 1, isRecent: (u) => u === uids[4], cache, ...(charset && { charset }) });
  return { view, uids, run, reads: () => reads, resetReads: () => (reads = 0) };
}

test('flags, keywords, sets with *, recent, size, internal dates, modseq — without reading any message', async (t) => {
  const { view, uids, run, reads } = await setup(t);
  const [u1, u2, u3, u4, u5] = uids as [number, number, number, number, number];
  assert.deepEqual(await run({ op: 'flag', flag: '\\seen', set: true }), [u1, u4]);
  assert.deepEqual(await run({ op: 'flag', flag: 'work', set: true }), [u1]);
  assert.deepEqual(await run({ op: 'and', keys: [{ op: 'flag', flag: '\\Seen', set: false }, { op: 'not', key: { op: 'flag', flag: '\\Flagged', set: true } }] }), [u3, u5]);
  assert.deepEqual(await run({ op: 'seq', set: [{ from: 4, to: '*' }] }), [u4, u5]);
  assert.deepEqual(await run({ op: 'seq', set: [{ from: '*', to: 2 }] }), [u2, u3, u4, u5]);
  assert.deepEqual(await run({ op: 'uid', set: [{ from: u5 + 10, to: '*' }] }), [u5]);
  assert.deepEqual(await run({ op: 'uid', set: [{ from: u1, to: u1 }, { from: u3, to: u3 }] }), [u1, u3]);
  assert.deepEqual(await run({ op: 'recent', set: true }), [u5]);
  assert.deepEqual(await run({ op: 'and', keys: [{ op: 'recent', set: false }, { op: 'flag', flag: '\\Seen', set: false }] }), [u2, u3]);
  assert.deepEqual(await run({ op: 'size', cmp: 'smaller', n: 100 }), [u4]);
  assert.deepEqual(await run({ op: 'size', cmp: 'larger', n: NESTED.length - 1 }), [u2]);
  assert.deepEqual(await run({ op: 'size', cmp: 'larger', n: NESTED.length }), []);
  assert.deepEqual(await run({ op: 'date', field: 'internal', cmp: 'on', date: '2021-01-10' }), [u1]);
  assert.deepEqual(await run({ op: 'date', field: 'internal', cmp: 'before', date: '2021-03-05' }), [u1, u2]);
  assert.deepEqual(await run({ op: 'date', field: 'internal', cmp: 'since', date: '2021-03-05' }), [u3, u4, u5]);
  const changed = await view.setFlags([u3], { mode: 'add', flags: ['\\Answered'] });
  const modseq = changed.changed[0]?.modseq ?? 0;
  assert.deepEqual(await run({ op: 'modseq', n: modseq }), [u3]);
  assert.deepEqual(await run({ op: 'all' }), uids);
  assert.equal(reads(), 0);
});

test('header keys decode RFC 2047 words, match case-insensitively; SENT* use the Date: header date only', async (t) => {
  const { uids, run } = await setup(t);
  const [u1, u2, u3, u4, u5] = uids as [number, number, number, number, number];
  assert.deepEqual(await run({ op: 'header', name: 'FROM', value: 'andré' }), [u2]);
  assert.deepEqual(await run({ op: 'header', name: 'subject', value: 'CAFÉ imap' }), [u1]);
  assert.deepEqual(await run({ op: 'header', name: 'Subject', value: 'grüße' }), [u5]);
  assert.deepEqual(await run({ op: 'header', name: 'bcc', value: 'BOB@example.NET' }), [u1]);
  assert.deepEqual(await run({ op: 'header', name: 'to', value: 'bob@' }), []);
  assert.deepEqual(await run({ op: 'header', name: 'bcc', value: 'friends' }), [u1]);
  assert.deepEqual(await run({ op: 'header', name: 'X-Only', value: '' }), [u4]);
  assert.deepEqual(await run({ op: 'header', name: 'x-only', value: 'THIS' }), [u4]);
  assert.deepEqual(await run({ op: 'not', key: { op: 'header', name: 'date', value: '' } }), [u3, u4, u5]);
  assert.deepEqual(await run({ op: 'date', field: 'sent', cmp: 'on', date: '1996-07-17' }), [u1]);
  assert.deepEqual(await run({ op: 'date', field: 'sent', cmp: 'before', date: '1996-07-17' }), []);
  assert.deepEqual(await run({ op: 'date', field: 'sent', cmp: 'since', date: '2000-01-01' }), [u2]);
});

test('BODY/TEXT search decoded text: quoted-printable across soft breaks, base64, charsets, nested messages', async (t) => {
  const { uids, run, reads, resetReads } = await setup(t);
  const [u1, u2, u3, u4, u5] = uids as [number, number, number, number, number];
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'RÉSUMÉ de la' }), [u2]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'tres long' }), [u2]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'KÖLN' }), [u2]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'inner text' }), [u3]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'münchen' }), [u5]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'without headers' }), [u4]);
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'JVBERi0x' }), []); // the PDF is binary, not text
  assert.deepEqual(await run({ op: 'text', where: 'body', value: 'nested' }), []);
  assert.deepEqual(await run({ op: 'text', where: 'text', value: 'nested' }), [u2]);
  assert.deepEqual(await run({ op: 'text', where: 'text', value: 'café' }), [u1]);
  assert.deepEqual(await run({ op: 'or', a: { op: 'text', where: 'body', value: 'hello joe' }, b: { op: 'text', where: 'body', value: 'item body' } }), [u1, u3]);
  // Cheap keys decide first: only the unseen, unflagged messages are opened.
  resetReads();
  assert.deepEqual(await run({ op: 'and', keys: [{ op: 'flag', flag: '\\Seen', set: false }, { op: 'text', where: 'body', value: 'text' }] }), [u3]);
  assert.equal(reads(), 3);
  resetReads();
  assert.deepEqual(await run({ op: 'or', a: { op: 'all' }, b: { op: 'text', where: 'body', value: 'x' } }), uids);
  assert.equal(reads(), 0);
});

test('BODY/TEXT: whole-file batch reads and streamed reads find the same messages', async (t) => {
  const batched = await setup(t);
  const streamed = await setup(t, { streamOnly: true });
  const keys: SearchKey[] = ['RÉSUMÉ de la', 'tres long', 'KÖLN', 'inner text', 'münchen', 'without headers', 'JVBERi0x', 'nested', 'text', 'x']
    .flatMap((value) => [{ op: 'text', where: 'body', value }, { op: 'text', where: 'text', value }] as SearchKey[]);
  for (const key of keys) {
    const a = (await batched.run(key)).map((u) => batched.uids.indexOf(u));
    const b = (await streamed.run(key)).map((u) => streamed.uids.indexOf(u));
    assert.deepEqual(a, b, JSON.stringify(key));
  }
});

test('CHARSET: US-ASCII and UTF-8 accepted, anything else is BADCHARSET', async (t) => {
  const { uids, run } = await setup(t);
  assert.deepEqual(await run({ op: 'header', name: 'subject', value: 'grüße' }, 'utf-8'), [uids[4]]);
  assert.deepEqual(await run({ op: 'all' }, 'US-ASCII'), uids);
  await assert.rejects(run({ op: 'all' }, 'KOI8-R'), { code: 'BADCHARSET' });
});
