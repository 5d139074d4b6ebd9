import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comment, formatAuthResults, quoteValue } from './format.ts';

test('results come out in method order, one resinfo per folded line', () => {
  const v = formatAuthResults('mx.example.net', [
    { method: 'dmarc', result: 'pass', props: [['header', 'from', 'example.com']] },
    { method: 'dkim', result: 'pass', props: [['header', 'd', 'example.com'], ['header', 's', '']] },
    { method: 'spf', result: 'fail', comment: 'not (allowed)', props: [['smtp', 'mailfrom', 'a@example.com']] },
  ]);
  assert.equal(v, 'mx.example.net;\r\n\tspf=fail (not \\(allowed\\)) smtp.mailfrom=a@example.com;\r\n\tdkim=pass header.d=example.com;\r\n\tdmarc=pass header.from=example.com');
});

test('no results: the no-result form (RFC 8601 §2.2)', () => {
  assert.equal(formatAuthResults('mx.example.net', []), 'mx.example.net; none');
});

test('values that are not tokens are quoted; comments cannot break the field', () => {
  assert.equal(quoteValue('a b"c'), '"a b\\"c"');
  assert.equal(quoteValue('user@example.com', true), 'user@example.com');
  assert.equal(comment('x\r\nInjected: yes'), '(x Injected: yes)');
  assert.equal(comment('é'), '(?)');
});
