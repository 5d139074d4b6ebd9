import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buffer, text } from 'node:stream/consumers';
import { Readable } from 'node:stream';
import { composeBuffer, composeMessage, firstToken, HeaderFilter, removedHeaders, type HeaderRemoval } from './compose.ts';

const msg = (s: string) => ({ kind: 'memory' as const, bytes: Buffer.from(s, 'latin1') });

test('firstToken skips CFWS and comments, reads quoted strings, lower-cases', () => {
  assert.equal(firstToken(' MX.Example.NET; spf=pass'), 'mx.example.net');
  assert.equal(firstToken('\r\n\t(comment (nested) \\) x) mx.example.net 1; none'), 'mx.example.net');
  assert.equal(firstToken(' "Mx.Example.net"; none'), 'mx.example.net');
  assert.equal(firstToken('mx.example.net(c); none'), 'mx.example.net');
  assert.equal(firstToken('   '), '');
});

test('removedHeaders keeps plain names as strings and conditional ones as objects', () => {
  assert.deepEqual(removedHeaders([
    { op: 'add', name: 'X-A', value: '1' },
    { op: 'remove', name: 'X-Spam' },
    { op: 'remove', name: 'Authentication-Results', firstToken: 'mx.example.net' },
  ]), ['x-spam', { name: 'authentication-results', firstToken: 'mx.example.net' }]);
});

test('a conditional removal drops only the fields whose first token matches, folded ones too', async () => {
  const raw = [
    'Received: from a\r\n',
    'Authentication-Results: MX.example.NET; spf=pass\r\n',
    'Authentication-Results:\r\n  mx.example.net;\r\n  dkim=pass header.d=evil.test\r\n',
    'Authentication-Results: other.example; spf=fail\r\n',
    'authentication-results: (forged) "mx.example.net"; dmarc=pass\r\n',
    'Authentication-Results: mx.example.net.evil.test; arc=none\r\n',
    'Subject: hi\r\n',
    '\r\n',
    'Authentication-Results: mx.example.net; body stays\r\n',
  ].join('');
  const expected = [
    'Authentication-Results: other.example; spf=fail\r\n',
    'Authentication-Results: mx.example.net.evil.test; arc=none\r\n',
    'Subject: hi\r\n',
    '\r\n',
    'Authentication-Results: mx.example.net; body stays\r\n',
  ].join('');
  const remove = [{ name: 'Authentication-Results', firstToken: 'mx.example.net' }, 'received'];
  assert.equal(await text(composeMessage(Buffer.from('X-Top: 1\r\n'), msg(raw), remove)), 'X-Top: 1\r\n' + expected);
  // In 7-byte chunks, so held fields and lines cross chunk boundaries.
  const bytes = Buffer.from(raw, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += 7) parts.push(bytes.subarray(i, i + 7));
  assert.equal(await text(Readable.from(parts).pipe(new HeaderFilter(remove))), expected);
});

test('a held field at the very end of a header-only message is still decided', async () => {
  assert.equal(await text(composeMessage(Buffer.alloc(0), msg('Subject: x\r\nAuthentication-Results: mx.example.net; none'), [{ name: 'authentication-results', firstToken: 'MX.EXAMPLE.NET' }])), 'Subject: x\r\n');
  assert.equal(await text(composeMessage(Buffer.alloc(0), msg('Subject: x\r\nAuthentication-Results: other; none'), [{ name: 'authentication-results', firstToken: 'mx.example.net' }])), 'Subject: x\r\nAuthentication-Results: other; none');
});

test('plain removals behave as before', async () => {
  assert.equal(await text(composeMessage(Buffer.alloc(0), msg('X-Spam: yes\r\n\tmore\r\nSubject: s\r\n\r\nbody\r\n'), ['x-spam'])), 'Subject: s\r\n\r\nbody\r\n');
});

test('composeBuffer (in memory) gives exactly what composeMessage streams', async () => {
  const remove: HeaderRemoval[] = [{ name: 'Authentication-Results', firstToken: 'mx.example.net' }, 'x-spam', 'received'];
  const cases = [
    'Received: a\r\n\tb\r\nX-Spam: 1\r\nSubject: s\r\n\r\nX-Spam: in body\r\n',
    'Subject: x\r\nAuthentication-Results: mx.example.net; none', // ends inside the header, held field
    'Subject: x\r\nAuthentication-Results:\r\n (c) mx.example.net; spf=pass\r\n\r\nbody',
    '\r\nX-Spam: no header at all\r\n',
    '\nX-Spam: bare LF blank line first\n',
    'X-Spam: 1\nSubject: bare LF\n\nbody\n',
    'Subject: no body\r\n\r\n',
    '',
    'X-Other: \xe9\xff latin1 bytes\r\nX-Spam: y\r\n\r\n\x00\xff binary body',
  ];
  for (const raw of cases) {
    const bytes = Buffer.from(raw, 'latin1');
    const prefix = Buffer.from('X-Top: 1\r\n');
    const streamed = await buffer(composeMessage(prefix, msg(raw), remove));
    assert.deepEqual(composeBuffer(prefix, bytes, remove), streamed, JSON.stringify(raw));
    assert.deepEqual(composeBuffer(prefix, bytes, []), Buffer.concat([prefix, bytes]));
  }
});
