// Header-value and content decoding used by ENVELOPE, BODYSTRUCTURE and SEARCH (pure functions).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAddressList } from './address.ts';
import { decodeEncodedWords, transferDecoder } from './decode.ts';
import { parseHeader, parseParamValue } from './header.ts';

test('RFC 2047: B and Q words in any charset; whitespace between adjacent words dropped (§6.2)', () => {
  assert.equal(decodeEncodedWords('=?UTF-8?Q?Caf=C3=A9?= =?ISO-8859-1?B?SvZyZw==?= and =?iso-8859-1?q?a_b?='), 'CaféJörg and a b');
  assert.equal(decodeEncodedWords('plain text'), 'plain text');
  assert.equal(decodeEncodedWords('=?x-unknown?Q?abc?='), 'abc'); // unknown charset: bytes as UTF-8
  assert.equal(decodeEncodedWords('=?UTF-8*en?Q?hi?='), 'hi'); // RFC 2231 §5 language tag
});

test('quoted-printable and base64 decode identically whatever the chunking', () => {
  const qp = Buffer.from('Voil=C3=A0 un tr=\r\nes long mot=3D=\nfin=ZZ\r\n');
  const b64 = Buffer.from(`${Buffer.from('Grüße aus Köln, ein längerer Text').toString('base64').replace(/(.{8})/g, '$1\r\n')}`);
  for (const [enc, input, expected] of [
    ['quoted-printable', qp, 'Voilà un tres long mot=fin=ZZ\r\n'],
    ['base64', b64, 'Grüße aus Köln, ein längerer Text'],
  ] as const) {
    for (let step = 1; step <= input.length; step++) {
      const d = transferDecoder(enc);
      const out: Buffer[] = [];
      for (let i = 0; i < input.length; i += step) out.push(d.write(input.subarray(i, i + step)));
      out.push(d.end());
      assert.equal(Buffer.concat(out).toString('utf8'), expected, `${enc} in chunks of ${step}`);
    }
  }
});

test('Content-Type parameters: quoting, comments, RFC 2231 continuations merged and kept encoded', () => {
  assert.deepEqual(parseParamValue('Text/Plain (comment); Charset="UTF-8"; format=flowed'), { value: 'text/plain', params: [['charset', 'UTF-8'], ['format', 'flowed']] });
  assert.deepEqual(parseParamValue("attachment; filename*0*=us-ascii'en'This%20is; filename*1=\" a (long) name\""), {
    value: 'attachment',
    params: [['filename*', "us-ascii'en'This%20is%20a%20(long)%20name"]],
  });
  assert.deepEqual(parseParamValue('message/external-body; access-type=URL; URL*0="ftp://"; URL*1="example.com/"'), {
    value: 'message/external-body',
    params: [['access-type', 'URL'], ['url', 'ftp://example.com/']],
  });
});

test('header fields unfold, keep raw values, skip lines without a name', () => {
  const fields = parseHeader(Buffer.from('Subject: a\r\n  b\r\nnot a field\r\nX-Y:z\r\n\r\nBody: no\r\n'));
  assert.deepEqual(fields, [['subject', 'a  b'], ['x-y', 'z']]);
});

test('address lists: groups (empty too), routes, comments as names, missing domain', () => {
  assert.deepEqual(parseAddressList('undisclosed-recipients:;'), [
    { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
    { name: null, adl: null, mailbox: null, host: null },
  ]);
  assert.deepEqual(parseAddressList('"Doe, John" <john@example.com>, jane@example.org (Jane Roe), postmaster'), [
    { name: 'Doe, John', adl: null, mailbox: 'john', host: 'example.com' },
    { name: 'Jane Roe', adl: null, mailbox: 'jane', host: 'example.org' },
    { name: null, adl: null, mailbox: 'postmaster', host: '' },
  ]);
  assert.deepEqual(parseAddressList('<@a.example,@b.example:x@c.example>'), [{ name: null, adl: '@a.example,@b.example', mailbox: 'x', host: 'c.example' }]);
  assert.deepEqual(parseAddressList('"odd local"@example.com'), [{ name: null, adl: null, mailbox: '"odd local"', host: 'example.com' }]);
  assert.deepEqual(parseAddressList(''), []);
});
