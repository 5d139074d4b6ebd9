/** Pure parts: reply parsing, the action decision, header texts, milter edits, request headers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseReply, requestHeaders, RspamdUnavailable } from './client.ts';
import { RspamdConfig } from './config.ts';
import { decide, milterEdits, normalizeAction, resultHeader, smtpMessage } from './decide.ts';

const cfg = RspamdConfig.parse({});
const reply = (o: Record<string, unknown>) => parseReply(JSON.stringify({ action: 'no action', score: 0, required_score: 15, ...o }));

test('parseReply accepts a verdict and refuses anything else', () => {
  const r = reply({ action: 'add header', score: 7.5, symbols: { A: { score: 3 }, B: { score: 4.5, options: ['x'] }, Z: { score: 0 } } });
  assert.equal(r.action, 'add header');
  assert.throws(() => parseReply('<html>'), RspamdUnavailable);
  assert.throws(() => parseReply('{"score": 1}'), /not a verdict/);
  assert.throws(() => parseReply('{"action": "reject", "score": "high", "required_score": 15}'), /not a verdict/);
});

test('decide maps each rspamd action to the configured Pochta action', () => {
  const map = (a: string) => decide(reply({ action: a }), cfg).action;
  assert.equal(map('reject'), 'reject');
  assert.equal(map('soft reject'), 'tempfail');
  assert.equal(map('greylist'), 'tempfail');
  assert.equal(map('add header'), 'tag');
  assert.equal(map('rewrite subject'), 'tag');
  assert.equal(map('no action'), undefined);
  assert.equal(map('some future action'), undefined, 'unknown actions are no action');
  assert.equal(normalizeAction('ADD_HEADER'), 'add header');
  assert.equal(decide(reply({ action: 'reject' }), { ...cfg, onReject: 'quarantine' }).action, 'quarantine');
});

test('rejectScore replaces rspamd\'s reject decision; tagScore raises no action and greylist to add header', () => {
  const high = { ...cfg, rejectScore: 20 };
  assert.equal(decide(reply({ action: 'reject', score: 16 }), high).rspamdAction, 'add header');
  assert.equal(decide(reply({ action: 'no action', score: 21 }), high).rspamdAction, 'reject');
  assert.equal(decide(reply({ action: 'no action', score: 21 }), high).required, 20);
  const tag = { ...cfg, tagScore: 3 };
  assert.equal(decide(reply({ action: 'greylist', score: 3 }), tag).rspamdAction, 'add header');
  assert.equal(decide(reply({ action: 'no action', score: 2.9 }), tag).rspamdAction, 'no action');
  assert.equal(decide(reply({ action: 'soft reject', score: 5 }), tag).rspamdAction, 'soft reject', 'a soft reject stays');
});

test('resultHeader lists non-zero symbols, highest first; spam only from add header upwards', () => {
  const d = decide(reply({ action: 'add header', score: 7.5, symbols: { A: { score: 3 }, 'B\r\nX': { score: 4.5 }, Z: { score: 0 } } }), cfg);
  assert.equal(resultHeader(d), 'Yes, action=add header, score=7.5, required=15.0, symbols=B__X(4.5) A(3.0)');
  assert.equal(decide(reply({ action: 'greylist' }), cfg).spam, false);
  assert.match(resultHeader(decide(reply({}), cfg)), /^No, action=no action, .* symbols=none$/);
});

test('smtpMessage is one safe line; milterEdits drop headers that name the software', () => {
  assert.equal(smtpMessage(reply({ messages: { smtp_message: 'Try\r\nagain\tlater' } })), 'Try again later');
  assert.equal(smtpMessage(reply({})), undefined);
  const m = milterEdits(reply({ milter: {
    add_headers: { 'X-Spamd-Bar': '+++', 'X-Spam-Level': { value: '***', order: 0 }, 'X-Rspamd-Server': 'mx1', 'X-Spam-Report': ['a', { value: 'b' }], 'X-Odd': 'made by Rspamd' },
    remove_headers: { 'X-Spam': 0, 'X-Rspamd-Queue-Id': 0 },
  } }));
  assert.deepEqual(m.remove, ['X-Spam']);
  assert.deepEqual(m.add, [{ name: 'X-Spam-Level', value: '***' }, { name: 'X-Spam-Report', value: 'a' }, { name: 'X-Spam-Report', value: 'b' }]);
});

test('requestHeaders: one Rcpt per recipient, optional fields only when known, no CR/LF', () => {
  const h = requestHeaders({ ip: '192.0.2.1', helo: 'a\r\nb', from: '', rcpt: ['x@y', 'z@w'], queueId: 'Q1', user: 'alice@pochta.test', tls: { protocol: 'TLSv1.3' } }, 123);
  assert.deepEqual(h, { 'Content-Length': '123', 'Queue-Id': 'Q1', Ip: '192.0.2.1', Helo: 'a??b', Rcpt: ['x@y', 'z@w'], User: 'alice@pochta.test', 'TLS-Version': 'TLSv1.3' });
});
