/**
 * The single-part shortcut gives the facts mailparser gives: each message below goes through
 * readFacts (shortcut where it applies) and mailparserFacts (mailparser only), whole and in small
 * chunks; the messages the shortcut must leave to mailparser are listed apart.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, test } from 'node:test';
import { headerProcessor, lightFacts, type ProcessHeaders } from './light-facts.ts';
import { mailparserFacts, readFacts } from './message-facts.ts';

/** The pinned mailparser provides the header processor the shortcut relies on. */
function processor(): ProcessHeaders {
  const p = headerProcessor();
  assert.ok(p, 'mailparser provides processHeaders');
  return p;
}

const crlf = (lines: Array<string | Buffer>) => Buffer.concat(lines.map((l) => Buffer.concat([typeof l === 'string' ? Buffer.from(l, 'utf8') : l, Buffer.from('\r\n')])));
const latin1 = (s: string) => Buffer.from(s, 'latin1');
const lines = (n: number, word: string) => Array.from({ length: n }, (_, i) => `${word} ${i} La de da de da, nothing to see here.`);

const simple: Record<string, Buffer> = {
  'smtp-source style': crlf([
    'Received: from client.bench.test (localhost [127.0.0.1])', '\tby mx.test with ESMTP id ABC', '\tfor <user@bench.test>; Fri, 27 Nov 2026 23:00:00 +0000',
    'From: <from@bench.test>', 'To: <user@bench.test>', 'Date: Fri, 27 Nov 2026 23:00:00 +0000 (UTC)', 'Message-Id: <20261127.ABC@client.bench.test>', '',
    ...lines(60, 'line'),
  ]),
  'encoded-word subject and names, utf-8 B and latin-1 Q': crlf([
    'From: =?UTF-8?B?R3LDvMOfZSBCb3Q=?= <bot@spam.test>', 'To: "Zoë Q." <zoe@x.test>, =?iso-8859-1?Q?J=F6rg?= <j@x.test>',
    'Subject: =?UTF-8?B?0J/RgNC40LLQtdGC?= =?UTF-8?B?INC80LjRgA==?=', 'Date: Mon, 2 Mar 2026 10:00:00 +0100', 'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', 'Café au lait, you have won the lottery!',
  ]),
  'quoted-printable utf-8 with soft breaks and a bad escape': crlf([
    'From: a@x.test', 'Subject: qp', 'Content-Type: text/plain; charset="UTF-8"', 'Content-Transfer-Encoding: quoted-printable', '',
    'Caf=C3=A9 cr=C3=A8me =', 'br=C3=BBl=C3=A9e, 100=25 free =ZZ not hex   ', 'end=',
  ]),
  'base64 utf-8, wrapped': crlf([
    'From: a@x.test', 'Subject: b64', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
    ...(Buffer.from('Verify your account now.\r\nЗдравствуйте, account will be suspended.\r\n'.repeat(5)).toString('base64').match(/.{1,76}/g) ?? []),
  ]),
  'base64 with junk characters and padding per line': crlf([
    'From: a@x.test', 'Content-Type: text/plain', 'Content-Transfer-Encoding: BASE64', '',
    Buffer.from('first').toString('base64'), Buffer.from('second!').toString('base64') + ' *junk*', '',
  ]),
  'latin-1 quoted-printable': crlf([
    'From: =?ISO-8859-1?Q?Andr=E9?= <andre@x.test>', 'Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=', 'Content-Type: text/plain; charset=ISO-8859-1',
    'Content-Transfer-Encoding: quoted-printable', '', 'Gr=FC=DFe aus K=F6ln, =E0 bient=F4t.',
  ]),
  'latin-1 8bit raw bytes': Buffer.concat([crlf(['From: a@x.test', 'Content-Type: text/plain; charset=iso-8859-1', '']), latin1('d\xe9j\xe0 vu, na\xefve\r\n')]),
  'windows-1252 and koi8-r': Buffer.concat([crlf(['From: a@x.test', 'Content-Type: text/plain; charset=windows-1252', '']), latin1('\x93quoted\x94 \x80 5\r\n')]),
  'koi8-r base64': crlf(['From: a@x.test', 'Content-Type: text/plain; charset=koi8-r', 'Content-Transfer-Encoding: base64', '', Buffer.from([0xf0, 0xd2, 0xc9, 0xd7, 0xc5, 0xd4]).toString('base64')]),
  'us-ascii declared, 8-bit utf-8 sent': crlf(['From: a@x.test', 'Content-Type: text/plain; charset=us-ascii', '', 'naïve ünïcödé']),
  'unknown charset': crlf(['From: a@x.test', 'Content-Type: text/plain; charset=x-nonsense', '', 'hello wörld']),
  'raw utf-8 in headers': crlf(['From: Jürgen <j@x.test>', 'Subject: Grüße aus München', 'X-Note: ünïcödé', '', 'body']),
  'no Content-Type, bare LF line ends': Buffer.from('From: a@x.test\nSubject: lf\nDate: Tue, 3 Mar 2026 09:00:00 GMT\n\nline one\nline two\n'),
  'headers of every kind': crlf([
    'From: Team: a@g.test, "B, b" <b@g.test>;', 'Sender: s@x.test', 'Reply-To: r@x.test', 'Cc: c1@x.test, c2@x.test', 'Bcc: hidden@x.test',
    'Subject: first', 'Subject: second', 'Message-ID: no-brackets@x.test', 'In-Reply-To: <p@x.test>',
    'References: <a@x.test>', ' <b@x.test>', '\t<c@x.test>', 'X-Priority: 1 (Highest)', 'Importance: low',
    'List-Id: Some list <list.x.test>', 'List-Unsubscribe: <mailto:leave@x.test>, <https://x.test/u>',
    'Received: one', 'Received: two', 'Return-Path: <bounce@x.test>', 'Delivered-To: user@x.test', 'Content-Disposition: inline',
    'X-Empty:', 'X-Mailer: Some Mailer 1.0', 'Date: Wed, 4 Mar 2026 12:00:00 -0500', '', 'Body.',
  ]),
  'stray CR in the body': Buffer.from('From: a@x.test\r\n\r\none\r\r\ntwo\rthree\nfour\r\n'),
  'multipart/alternative': crlf([
    'From: a@x.test', 'MIME-Version: 1.0', 'Content-Type: multipart/alternative; boundary="b"', '', '--b', 'Content-Type: text/plain; charset=utf-8', '',
    'plain part', '--b', 'Content-Type: text/html; charset=utf-8', '', '<p>html part</p>', '--b--', '',
  ]),
  'text as an attachment': crlf(['From: a@x.test', 'Content-Type: text/plain', 'Content-Disposition: attachment; filename="a.txt"', '', 'file']),
  'mixed: alternative (plain + html) and a base64 attachment, preamble and epilogue': crlf([
    'From: Shop <shop@x.test>', 'Subject: =?UTF-8?Q?Your_order_=E2=9C=93?=', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="outer"', '',
    'This is a multi-part message in MIME format.', '--outer', 'Content-Type: multipart/alternative; boundary=inner', '', '--inner',
    'Content-Type: text/plain; charset=iso-8859-1', 'Content-Transfer-Encoding: quoted-printable', '', 'Gr=FC=DFe, claim your prize', '',
    '--inner', 'Content-Type: text/html; charset=utf-8', '', '<p>Grüße</p>', '--inner--', 'inner epilogue', '--outer',
    'Content-Type: application/pdf; name="a.pdf"', 'Content-Disposition: attachment; filename="a.pdf"', 'Content-Transfer-Encoding: base64', '',
    Buffer.alloc(600, 9).toString('base64'), '--outer--', 'outer epilogue', '',
  ]),
  'mixed: two text parts (QP latin-1, base64 utf-8), a part without Content-Type, a text attachment, a calendar': crlf([
    'From: a@x.test', 'Content-Type: multipart/mixed; boundary="=_b1"', '', '--=_b1', 'Content-Type: text/plain; charset=ISO-8859-1',
    'Content-Transfer-Encoding: quoted-printable', '', 'caf=E9 =', 'soft', '--=_b1', 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: base64', '',
    Buffer.from('Привет, wire transfer now\r\n').toString('base64'), '--=_b1', 'X-Part: no content type', '', 'default part text', '--=_b1',
    'Content-Type: text/plain', 'Content-Disposition: attachment; filename=notes.txt', '', 'attached notes', '--=_b1', 'Content-Type: text/calendar; method=REQUEST', '',
    'BEGIN:VCALENDAR', 'END:VCALENDAR', '--=_b1--',
  ]),
  'multipart with bare LF line ends': Buffer.from('From: a@x.test\nContent-Type: multipart/alternative; boundary=zz\n\n--zz\nContent-Type: text/plain\n\nlf text\n\n--zz\nContent-Type: text/html\n\n<b>x</b>\n--zz--\n'),
  'multipart with an empty text part and inline disposition': crlf([
    'From: a@x.test', 'Content-Type: multipart/mixed; boundary=q', '', '--q', 'Content-Type: text/plain', '', '--q', 'Content-Type: text/plain',
    'Content-Disposition: inline', '', 'second', '--q', 'Content-Type: image/png', 'Content-Disposition: inline', '', 'PNG', '--q--', '',
  ]),
  'empty body': crlf(['From: a@x.test', 'Subject: nothing', '']),
  'long plain body': crlf(['From: a@x.test', 'Subject: long', '', ...lines(4000, 'word')]),
};

const mailparserOnly: Record<string, Buffer> = {
  'html only': crlf(['From: a@x.test', 'Content-Type: text/html', '', '<html><body><h1>Hi</h1><p>you have won</p></body></html>']),
  'format=flowed': crlf(['From: a@x.test', 'Content-Type: text/plain; format=flowed', '', 'a soft ', 'break']),
  'nested message/rfc822': crlf(['From: a@x.test', 'Content-Type: message/rfc822', '', 'From: inner@x.test', 'Subject: inner', '', 'inner body']),
  'alternative with HTML only': crlf(['From: a@x.test', 'Content-Type: multipart/alternative; boundary=b', '', '--b', 'Content-Type: text/html', '', '<p>only html</p>', '--b--']),
  'HTML part outside an alternative': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'plain', '--b', 'Content-Type: text/html', '', '<p>html</p>', '--b--']),
  'an embedded message/rfc822 part': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: message/rfc822', '', 'From: in@x.test', 'Subject: inner', '', 'inner', '--b--']),
  'multipart/digest': crlf(['From: a@x.test', 'Content-Type: multipart/digest; boundary=b', '', '--b', '', 'From: in@x.test', '', 'inner', '--b--']),
  'a delimiter line with trailing white space': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b  ', 'Content-Type: text/plain', '', 'x', '--b--']),
  'a closing delimiter in the preamble': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b--', '--b', 'Content-Type: text/plain', '', 'x', '--b--']),
  'no closing delimiter': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', '']),
  'nested multipart with the same boundary': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: multipart/alternative; boundary=b', '', '--b', 'Content-Type: text/plain', '', 'x', '--b--', '--b--']),
  'a part whose header never ends': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary=b', '', '--b', 'Content-Type: text/plain', '--b--']),
  'broken MIME: no empty line': Buffer.from('From: a@x.test\r\nSubject: header only\r\n'),
  'a Content-Type with a comment': crlf(['From: a@x.test', 'Content-Type: text/plain (plain); charset=utf-8', '', 'x']),
  'an mbox From line': crlf(['From someone@x.test Fri Nov 27 23:00:00 2026', 'From: a@x.test', '', 'x']),
  'a line without a name': crlf(['From: a@x.test', 'this is not a header', '', 'x']),
  'multipart with a broken boundary': crlf(['From: a@x.test', 'Content-Type: multipart/mixed; boundary="zz"', '', '--z', 'Content-Type: text/plain', '', 'orphan', '']),
};

function chunked(raw: Buffer, size: number): Readable {
  if (!size) return Readable.from([raw], { objectMode: false });
  const parts: Buffer[] = [];
  for (let i = 0; i < raw.length; i += size) parts.push(raw.subarray(i, i + size));
  return Readable.from(parts, { objectMode: false });
}

describe('spam-score message facts: shortcut = mailparser', () => {
  for (const [name, raw] of Object.entries(simple)) {
    test(`shortcut taken, same facts: ${name}`, async () => {
      assert.ok(lightFacts(raw, processor()), 'the shortcut applies');
      const want = await mailparserFacts(chunked(raw, 0), 1 << 20);
      for (const size of [0, 1, 100]) assert.deepEqual(await readFacts(chunked(raw, size), 1 << 20), want, `chunks of ${size}`);
    });
  }
  for (const [name, raw] of Object.entries(mailparserOnly)) {
    test(`left to mailparser: ${name}`, async () => {
      assert.equal(lightFacts(raw, processor()), undefined);
      assert.deepEqual(await readFacts(chunked(raw, 0), 1 << 20), await mailparserFacts(chunked(raw, 0), 1 << 20));
    });
  }

  test('a message over maxBytes is cut at maxBytes as before (mailparser path)', async () => {
    const raw = crlf(['From: a@x.test', 'Subject: big', '', ...lines(200, 'w'), 'TAIL']);
    const f = await readFacts(chunked(raw, 0), 4096);
    assert.deepEqual(f, await mailparserFacts(chunked(raw, 0), 4096));
    assert.doesNotMatch(f.text, /TAIL/);
  });

  test('a message larger than what is read into memory streams on to mailparser, nothing lost', async () => {
    const raw = crlf(['From: a@x.test', 'Subject: large', '', ...lines(6000, 'big'), 'TAIL']);
    assert.ok(raw.length > 256 * 1024);
    const f = await readFacts(chunked(raw, 65_536), 1 << 20, 1 << 20);
    assert.deepEqual(f, await mailparserFacts(chunked(raw, 0), 1 << 20, 1 << 20));
    assert.match(f.text, /TAIL/);
  });

  test('text past maxText is clipped on both paths', async () => {
    const raw = crlf(['From: a@x.test', '', 'x'.repeat(5000)]);
    assert.equal((await readFacts(chunked(raw, 0), 1 << 20, 1000)).text.length, 1000);
  });
});

/**
 * Generated MIME trees (seeded, so a failure is reproducible): random nesting of mixed /
 * alternative / related, text/plain, HTML, attachments, charsets, transfer encodings, preambles
 * and epilogues, CRLF or LF line ends, bodies with stray "--" and "=" lines. Facts must match.
 */
describe('spam-score message facts: generated messages', () => {
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)];
  const words = ['hello', 'Grüße', 'café', 'lottery', 'Привет', '100% free', 'naïve', '  spaced  ', '=3D', 'tab\there', '', '--', '-- sig', '\r\n', '=', '=\r\n', ' ', '<p>x</p>', '\n'];
  const text = (n: number) => Array.from({ length: n }, () => pick(words)).join(pick([' ', '\r\n', '\r\n\r\n']));
  const leaf = (): string[] => {
    const ct = pick(['text/plain', 'text/plain', 'text/html', 'application/octet-stream', 'image/png', 'text/csv', '']);
    const cs = pick(['utf-8', 'iso-8859-1', 'windows-1252', 'us-ascii', '']);
    const enc = pick(['', '7bit', '8bit', 'quoted-printable', 'base64']);
    const disp = pick(['', '', 'inline', 'attachment; filename="f.txt"']);
    const t = text(1 + Math.floor(rnd() * 8));
    const bytes = cs === 'iso-8859-1' || cs === 'windows-1252' ? latin1(t.replace(/[^\x00-\xff]/g, '?')) : Buffer.from(t);
    const body = enc === 'base64' ? (bytes.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n')
      : enc === 'quoted-printable' ? [...bytes].map((b) => (b > 126 || b === 61 ? `=${b.toString(16).toUpperCase().padStart(2, '0')}` : String.fromCharCode(b))).join('')
        : bytes.toString('latin1');
    const h = [...(ct ? [`Content-Type: ${ct}${cs ? `; charset=${cs}` : ''}`] : []), ...(enc ? [`Content-Transfer-Encoding: ${enc}`] : []), ...(disp ? [`Content-Disposition: ${disp}`] : [])];
    return [...(h.length ? h : ['X-Nothing: 1']), '', body];
  };
  const node = (depth: number): string[] => {
    if (depth > 2 || rnd() < 0.5) return leaf();
    const b = `b${Math.floor(rnd() * 1e6)}_${depth}`;
    const out = [`Content-Type: multipart/${pick(['mixed', 'alternative', 'related'])}; boundary="${b}"`, '', ...(rnd() < 0.3 ? ['preamble text'] : [])];
    for (let i = 1 + Math.floor(rnd() * 3); i > 0; i--) out.push(`--${b}`, ...node(depth + 1));
    out.push(`--${b}--`, ...(rnd() < 0.3 ? ['epilogue'] : []));
    return out;
  };

  test('200 generated messages: readFacts = mailparser, and most take the shortcut', async () => {
    let taken = 0;
    for (let i = 0; i < 100; i++) {
      const m = ['From: =?UTF-8?Q?J=C3=BCrgen?= <j@x.test>', `Subject: ${pick(['hi', '=?UTF-8?B?0J/RgNC40LLQtdGC?=', 'LOTTERY WINNER NOW!!'])}`, 'Date: Tue, 3 Mar 2026 09:00:00 GMT', 'MIME-Version: 1.0', ...node(0)];
      for (const raw of [latin1(m.join(pick(['\r\n', '\r\n', '\n'])) + '\r\n'), Buffer.from(m.join('\r\n') + '\r\n')]) {
        if (lightFacts(raw, processor())) taken++;
        assert.deepEqual(await readFacts(chunked(raw, 0), 1 << 20), await mailparserFacts(chunked(raw, 0), 1 << 20), raw.toString());
      }
    }
    assert.ok(taken > 100, `${taken} of 200 took the shortcut`);
  });
});
