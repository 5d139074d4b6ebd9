import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cursor, ParseError } from './parser/cursor.ts';
import { parseSearch } from './parser/search.ts';
import { parseFetch } from './parser/fetch.ts';
import { formatSet, parseSequenceSet, resolveSeqSet, resolveUidSet } from './parser/sequence.ts';
import { formatDateTime, parseDateTime } from './parser/date.ts';
import { decodeMutf7, encodeMutf7 } from './mutf7.ts';
import { encode } from './encoder.ts';

const cur = (s: string, literals: Buffer[] = []) => {
  const lines = s.split('\n');
  return new Cursor(lines.map((line, i) => ({ line: Buffer.from(line), ...(literals[i] ? { literal: literals[i] } : {}) })));
};

test('strings: quoted with escapes, literal, astring, nstring', () => {
  assert.equal(cur('"a \\"b\\" \\\\"').string(), 'a "b" \\');
  assert.throws(() => cur('"a\\n"').string(), ParseError);
  const c = cur('{5}\n rest', [Buffer.from('he"lo')]);
  assert.equal(c.astring(), 'he"lo');
  c.sp();
  assert.equal(c.atom(), 'rest');
  assert.equal(cur('NIL').nstring(), null);
  assert.equal(cur('abc]d').astring(), 'abc]d');
});

test('sequence sets: parse, resolve against the map, * and reversed ranges', () => {
  const set = parseSequenceSet(cur('1,3:2,5:*'));
  assert.deepEqual(resolveSeqSet(set, [10, 20, 30, 40, 50]), [10, 20, 30, 50]);
  assert.equal(resolveSeqSet(parseSequenceSet(cur('6')), [10, 20]), null);
  assert.deepEqual(resolveUidSet(parseSequenceSet(cur('15:35,*')), [10, 20, 30, 40, 50]), [20, 30, 50]);
  assert.deepEqual(resolveUidSet(parseSequenceSet(cur('100:*')), [10, 20]), [20], 'RFC 3501 §6.4.8: n:* with n > max is the last UID');
  assert.equal(formatSet([5, 1, 2, 3, 9]), '1:3,5,9');
  assert.throws(() => parseSequenceSet(cur('0')), ParseError);
});

test('search programs: implicit AND, OR/NOT, dates, header keys, CHARSET, MODSEQ', () => {
  const r = parseSearch(cur('CHARSET UTF-8 OR SEEN NOT FROM "bob" SINCE 1-Feb-1994 1:3 UID 5 MODSEQ 7'));
  assert.equal(r.charset, 'UTF-8');
  assert.equal(r.usesModseq, true);
  assert.deepEqual(r.key, {
    op: 'and',
    keys: [
      { op: 'or', a: { op: 'flag', flag: '\\Seen', set: true }, b: { op: 'not', key: { op: 'header', name: 'From', value: 'bob' } } },
      { op: 'date', field: 'internal', cmp: 'since', date: '1994-02-01' },
      { op: 'seq', set: [{ from: 1, to: 3 }] },
      { op: 'uid', set: [{ from: 5, to: 5 }] },
      { op: 'modseq', n: 7 },
    ],
  });
  assert.deepEqual(parseSearch(cur('NEW')).key, { op: 'and', keys: [{ op: 'recent', set: true }, { op: 'flag', flag: '\\Seen', set: false }] });
  assert.deepEqual(parseSearch(cur('(UNKEYWORD $x LARGER 10)')).key, { op: 'and', keys: [{ op: 'flag', flag: '$x', set: false }, { op: 'size', cmp: 'larger', n: 10 }] });
  assert.deepEqual(parseSearch(cur('HEADER X-Spam ""')).key, { op: 'header', name: 'X-Spam', value: '' });
  assert.throws(() => parseSearch(cur('ON 1-Foo-2000')), /Invalid month/);
});

test('fetch attributes: macros, sections, partials, modifiers', () => {
  assert.deepEqual(parseFetch(cur('FAST')).items.map((i) => i.kind), ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
  const r = parseFetch(cur('(UID BODY.PEEK[1.2.HEADER.FIELDS (From "To")]<10.20> BODY[] RFC822.HEADER) (CHANGEDSINCE 5)'));
  assert.equal(r.changedSince, 5);
  assert.deepEqual(r.items[1], { kind: 'section', peek: true, section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['From', 'To'] }, partial: { start: 10, length: 20 }, name: 'BODY[1.2.HEADER.FIELDS (From To)]' });
  assert.deepEqual(r.items[2], { kind: 'section', peek: false, section: { part: [] }, name: 'BODY[]' });
  assert.deepEqual(parseFetch(cur('BODY[2.MIME]')).items[0], { kind: 'section', peek: false, section: { part: [2], text: 'MIME' }, name: 'BODY[2.MIME]' });
  assert.throws(() => parseFetch(cur('BODY[MIME]')), /Invalid section/);
  assert.throws(() => parseFetch(cur('BODY[]<1.0>')), ParseError);
});

test('date-time: parse with zone, format in UTC', () => {
  const d = parseDateTime(cur('"17-Jul-1996 02:44:25 -0700"'));
  assert.equal(d.toISOString(), '1996-07-17T09:44:25.000Z');
  assert.equal(formatDateTime(d), '17-Jul-1996 09:44:25 +0000');
  assert.throws(() => parseDateTime(cur('"30-Feb-1996 02:44:25 -0700"')), ParseError);
});

test('modified UTF-7 round trip (RFC 3501 §5.1.3 examples)', () => {
  assert.equal(encodeMutf7('~peter/mail/台北/日本語'), '~peter/mail/&U,BTFw-/&ZeVnLIqe-');
  assert.equal(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'), '~peter/mail/台北/日本語');
  assert.equal(encodeMutf7('A&B'), 'A&-B');
  assert.equal(decodeMutf7('A&-B'), 'A&B');
  assert.equal(decodeMutf7('bad&'), null);
  assert.equal(decodeMutf7('é'), null);
});

test('encoder: NIL, numbers, quoted, literal for 8-bit or CRLF, atoms, lists', () => {
  assert.equal(encode([null, 5, 'a "q"', { atom: '\\Seen' }, ['x']]).toString(), '(NIL 5 "a \\"q\\"" \\Seen ("x"))');
  assert.equal(encode('naïve').toString(), '{6}\r\nnaïve');
  assert.equal(encode('a\r\nb').toString(), '{4}\r\na\r\nb');
  assert.equal(encode(Buffer.from('raw')).toString(), '{3}\r\nraw');
});
