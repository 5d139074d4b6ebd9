/** Pure parts: spamd's reply, the spam decision with overrides, the status header. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decide, statusHeader } from './decide.ts';
import { parseReply, SpamdUnavailable } from './spamd-client.ts';

test('parseReply reads SYMBOLS and CHECK answers', () => {
  assert.deepEqual(parseReply('SPAMD/1.1 0 EX_OK\r\nContent-length: 22\r\nSpam: True ; 15.2 / 5.0\r\n\r\nGTUBE,NO_RECEIVED,BAD!'),
    { spam: true, score: 15.2, required: 5, symbols: ['GTUBE', 'NO_RECEIVED'] });
  assert.deepEqual(parseReply('SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.5 / 5.0\r\n\r\n'), { spam: false, score: -0.5, required: 5, symbols: [] });
});

test('parseReply refuses errors and non-verdicts', () => {
  assert.throws(() => parseReply('SPAMD/1.0 76 Bad header line: x\r\n'), /spamd error 76/);
  assert.throws(() => parseReply('SPAMD/1.1 0 EX_OK\r\n\r\n'), /no Spam header/);
  assert.throws(() => parseReply('HTTP/1.1 200 OK\r\n\r\n'), SpamdUnavailable);
  assert.throws(() => parseReply(''), SpamdUnavailable);
});

test('decide: spamd\'s own verdict unless spamScore overrides; rejectScore marks a hard reject', () => {
  const r = { spam: true, score: 7, required: 5, symbols: ['A'] };
  assert.equal(decide(r, {}).spam, true);
  assert.equal(decide(r, { spamScore: 8 }).spam, false);
  assert.equal(decide({ ...r, spam: false, score: 3 }, { spamScore: 3 }).spam, true);
  assert.equal(decide(r, { rejectScore: 7 }).hardReject, true);
  assert.equal(decide(r, { rejectScore: 7.1 }).hardReject, false);
  assert.equal(statusHeader(decide(r, { spamScore: 6 })), 'Yes, score=7.0 required=6.0 tests=A');
  assert.equal(statusHeader(decide({ ...r, spam: false, symbols: [] }, {})), 'No, score=7.0 required=5.0 tests=none');
});
