// ENVELOPE and BODY/BODYSTRUCTURE of real messages read through a real MaildirStore. Expected values
// were checked by hand against RFC 3501 §7.4.2 and against Dovecot 2.3.19's answers for the same
// bytes (differences are deliberate and noted where they occur).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from '../encoder.ts';
import { bodyStructure, envelope, StructureCache } from './index.ts';
import { EIGHT_BIT, FORWARD, largeMessage, MALFORMED, MISSING, NESTED, SIMPLE } from './test-messages.ts';
import { folderWith } from './test-support.ts';

const wire = (v: Parameters<typeof encode>[0]): string => encode(v).toString('utf8');

test('plain message: every ENVELOPE field raw, groups and source routes, defaults', async (t) => {
  const { view, uids } = await folderWith(t, [SIMPLE]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  assert.equal(s.size, SIMPLE.length);
  assert.equal(
    wire(envelope(s)),
    '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "=?UTF-8?Q?Caf=C3=A9?= IMAP4rev1  WG mtg summary" ' +
      '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Mail Robot" NIL "robot" "example.org")) ' +
      '(("The List" NIL "list" "example.org")) ((NIL NIL "imap" "cac.washington.edu")) ' +
      '((NIL NIL "minutes" "CNRI.Reston.VA.US") ("John Klensin" NIL "KLENSIN" "MIT.EDU")) ' +
      '((NIL NIL "Friends" NIL) (NIL NIL "alice" "example.com") (NIL "@relay.example" "bob" "example.net") (NIL NIL NIL NIL) (NIL NIL "carol" "example.com")) ' +
      '"<parent@example.org>" "<B27397-0100000@cac.washington.edu>")',
  );
  // Dovecot answers the same, except that it squeezes the folded subject's two spaces into one;
  // RFC 5322 §2.2.3 unfolding only removes the CRLF.
  assert.equal(wire(bodyStructure(s, false)), '("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 69 2)');
  assert.equal(wire(bodyStructure(s, true)), '("text" "plain" ("charset" "US-ASCII") NIL NIL "7bit" 69 2 NIL NIL NIL NIL)');
});

test('nested multipart with extension data, RFC 2231 continuations, language list and location', async (t) => {
  const { view, uids } = await folderWith(t, [NESTED]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  assert.equal(
    wire(envelope(s)),
    '("Mon, 1 Feb 2021 10:00:00 +0000" "nested" (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) ' +
      '(("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) (("=?ISO-8859-1?Q?Andr=E9?= Pirard" NIL "PIRARD" "vm1.ulg.ac.be")) ' +
      '((NIL NIL "a" "example.com")) NIL NIL NIL "<nested@example.com>")',
  );
  assert.equal(
    wire(bodyStructure(s, false)),
    '((("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 64 1) ("text" "html" ("charset" "utf-8") NIL NIL "base64" 36 0) "alternative") ' +
      '("application" "pdf" ("name" "report.pdf") "<part3@example.com>" "The report" "base64" 12) "mixed")',
  );
  // Dovecot differs only in writing the single language as a list and keeping the folded location's space.
  assert.equal(
    wire(bodyStructure(s, true)),
    '((("text" "plain" ("charset" "iso-8859-1") NIL NIL "quoted-printable" 64 1 NIL NIL NIL NIL) ("text" "html" ("charset" "utf-8") NIL NIL "base64" 36 0 NIL NIL NIL NIL) "alternative" ("boundary" "inner") NIL NIL NIL) ' +
      '("application" "pdf" ("name" "report.pdf") "<part3@example.com>" "The report" "base64" 12 "Q2hlY2sgSW50ZWdyaXR5IQ==" ' +
      '("attachment" ("filename*" "utf-8\'\'r%C3%A9sum%C3%A9.pdf" "size" "12")) "fr" "http://example.com/report.pdf") ' +
      '"mixed" ("boundary" "outer") NIL ("en" "de") NIL)',
  );
});

test('message/rfc822 part carries its own envelope, structure and lines; digest parts default to message/rfc822', async (t) => {
  const { view, uids } = await folderWith(t, [FORWARD]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  const inner = '("Tue, 2 Mar 2021 11:12:13 +0100" "inner" (("Inner Sender" NIL "inner" "example.org")) (("Inner Sender" NIL "inner" "example.org")) (("Inner Sender" NIL "inner" "example.org")) NIL NIL NIL NIL NIL)';
  assert.equal(
    wire(bodyStructure(s, false)),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 12 0) ' +
      `("message" "rfc822" NIL NIL NIL "7bit" 247 ${inner} (("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 10 0) ("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 12 0) "alternative") 14) ` +
      '(("message" "rfc822" NIL NIL NIL "7bit" 33 (NIL "digest item" NIL NIL NIL NIL NIL NIL NIL NIL) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 9 0) 2) "digest") "mixed")',
  );
  assert.equal(wire(envelope(s)), '(NIL "Fwd: inner" ((NIL NIL "fwd" "example.com")) ((NIL NIL "fwd" "example.com")) ((NIL NIL "fwd" "example.com")) ((NIL NIL "b" "example.com")) NIL NIL NIL NIL)');
});

test('missing headers give NIL fields and the text/plain us-ascii default', async (t) => {
  const { view, uids } = await folderWith(t, [MISSING]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  assert.equal(wire(envelope(s)), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
  // Dovecot reports 22 octets: it counts the LF-only line end as CRLF. Sizes here are as stored.
  assert.equal(wire(bodyStructure(s, true)), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1 NIL NIL NIL NIL)');
});

test('malformed MIME degrades: unclosed boundary ends at EOF, header without body, bad Content-Type', async (t) => {
  const { view, uids } = await folderWith(t, [MALFORMED]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  // Dovecot shows the unparsable type as ("garbage" ""); RFC 2045 §5.2 says treat it as text/plain.
  assert.equal(
    wire(bodyStructure(s, false)),
    '(("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 5 0) ("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0) ("text" "plain" ("charset" "utf-8") NIL NIL "7bit" 30 1) "mixed")',
  );
});

test('8-bit header values are served as literals of their UTF-8 bytes', async (t) => {
  const { view, uids } = await folderWith(t, [EIGHT_BIT]);
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  assert.equal(wire(envelope(s)), '(NIL {7}\r\nGrüße (({5}\r\nJörg NIL "joerg" "example.de")) (({5}\r\nJörg NIL "joerg" "example.de")) (({5}\r\nJörg NIL "joerg" "example.de")) NIL NIL NIL NIL NIL)');
  assert.equal(wire(bodyStructure(s, false)), '("text" "plain" ("charset" "utf-8") NIL NIL "8bit" 30 1)');
});

test('structures of hostile input never throw: deep nesting is bounded, garbage is text', async (t) => {
  const deep: string[] = ['Content-Type: multipart/mixed; boundary=b0', ''];
  for (let i = 1; i < 200; i++) deep.push(`--b${i - 1}`, `Content-Type: multipart/mixed; boundary=b${i}`, '');
  deep.push('leaf');
  const junk = Buffer.from([0, 255, 13, 13, 10, 58, 58, 10, 10, 45, 45, 10]);
  const { view, uids } = await folderWith(t, [Buffer.from(deep.join('\r\n')), junk, Buffer.alloc(0)]);
  const cache = new StructureCache();
  const [a, b, c] = await Promise.all(uids.map((u) => cache.get(view, u)));
  assert.ok(a && b && c);
  let depth = 0;
  for (let v = bodyStructure(a, true); Array.isArray(v) && Array.isArray((v as unknown[])[0]); v = (v as unknown[])[0] as typeof v) depth++;
  assert.ok(depth >= 30 && depth <= 40, `depth ${depth}`);
  assert.equal(wire(bodyStructure(c, false)), '("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 0 0)');
  assert.equal(wire(envelope(b)), '(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)');
});

test('a 50 MB attachment is parsed streaming: offsets exact, memory does not grow with the message', async (t) => {
  const size = 50 * 1024 * 1024;
  const { view, uids } = await folderWith(t, [{ stream: largeMessage(size) }]);
  const before = process.memoryUsage().rss;
  const s = await new StructureCache().get(view, uids[0] ?? 0);
  const grown = process.memoryUsage().rss - before;
  assert.equal(s.size, view.get(uids[0] ?? 0)?.size);
  const bs = bodyStructure(s, false) as unknown[];
  const attachment = bs[1] as unknown[];
  const blocks = Math.floor(size / 66000);
  // The CRLF before the closing delimiter belongs to the delimiter (RFC 2046 §5.1.1).
  assert.deepEqual(attachment, ['application', 'octet-stream', null, null, null, 'base64', blocks * 66000 - 2]);
  assert.ok(grown < 40 * 1024 * 1024, `rss grew by ${grown} bytes while parsing a ${size}-byte message`);
});

test('the cache is an LRU bounded by entries and shares one parse between concurrent callers', async (t) => {
  const { view, uids } = await folderWith(t, [SIMPLE, NESTED, FORWARD]);
  const cache = new StructureCache({ maxEntries: 2 });
  const [x, y] = await Promise.all([cache.get(view, uids[0] ?? 0), cache.get(view, uids[0] ?? 0)]);
  assert.equal(x, y);
  await cache.get(view, uids[1] ?? 0);
  await cache.get(view, uids[2] ?? 0);
  assert.equal(cache.size, 2);
  assert.notEqual(await cache.get(view, uids[0] ?? 0), x); // evicted, parsed again
});
