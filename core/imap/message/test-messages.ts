/**
 * Real MIME messages for this folder's tests (CRLF line ends, as stored). Each exercises one part of
 * RFC 3501 §7.4.2 / RFC 2045–2047 / RFC 2231; their expected ENVELOPE / BODYSTRUCTURE values are in
 * the tests, checked by hand and against Dovecot 2.3's answers for the same bytes.
 */
const crlf = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

/** Plain text, every envelope field, a group, a source route, encoded words, folded subject. */
export const SIMPLE = crlf([
  'Date: Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  'From: Terry Gray <gray@cac.washington.edu>',
  'Subject: =?UTF-8?Q?Caf=C3=A9?= IMAP4rev1',
  '  WG mtg summary',
  'Sender: "Mail Robot" <robot@example.org>',
  'Reply-To: list@example.org (The List)',
  'To: imap@cac.washington.edu',
  'Cc: minutes@CNRI.Reston.VA.US, "John Klensin" <KLENSIN@MIT.EDU>',
  'Bcc: Friends: alice@example.com, <@relay.example:bob@example.net>;, carol@example.com',
  'In-Reply-To: <parent@example.org>',
  'Message-Id: <B27397-0100000@cac.washington.edu>',
  'MIME-Version: 1.0',
  'Content-Type: TEXT/PLAIN; CHARSET=US-ASCII',
  '',
  'Hello Joe, do you think we can meet at 3:30 tomorrow?',
  'Second line.',
  '',
]);

/** multipart/mixed ⊃ multipart/alternative (QP text, base64 html) + a base64 attachment with extension data. */
export const NESTED = crlf([
  'From: =?ISO-8859-1?Q?Andr=E9?= Pirard <PIRARD@vm1.ulg.ac.be>',
  'To: a@example.com',
  'Subject: nested',
  'Date: Mon, 1 Feb 2021 10:00:00 +0000',
  'Message-ID: <nested@example.com>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  'Content-Language: en, de',
  '',
  'This is the preamble.',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=iso-8859-1',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Voil=E0 le r=E9sum=E9 de la r=E9union, avec un mot tr=',
  'es long.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  'Content-Transfer-Encoding: base64',
  '',
  Buffer.from('<p>Grüße aus Köln</p>\r\n').toString('base64'),
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Transfer-Encoding: base64',
  'Content-ID: <part3@example.com>',
  'Content-Description: The report',
  'Content-Disposition: attachment;',
  ' filename*0*=utf-8\'\'r%C3%A9sum%C3%A9;',
  ' filename*1=".pdf"; size=12',
  'Content-Language: fr',
  'Content-Location: http://example.com/',
  ' report.pdf',
  'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
  '',
  'JVBERi0xLjQK',
  '--outer--',
  'epilogue',
  '',
]);

/** A forwarded message (message/rfc822) whose own body is multipart; a digest with a default-typed part. */
export const FORWARD = crlf([
  'From: fwd@example.com',
  'To: b@example.com',
  'Subject: Fwd: inner',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary=b1',
  '',
  '--b1',
  '',
  'see attached',
  '--b1',
  'Content-Type: message/rfc822',
  '',
  'From: Inner Sender <inner@example.org>',
  'Subject: inner',
  'Date: Tue, 2 Mar 2021 11:12:13 +0100',
  'Content-Type: multipart/alternative; boundary=b2',
  '',
  '--b2',
  'Content-Type: text/plain',
  '',
  'inner text',
  '--b2',
  'Content-Type: text/html',
  '',
  '<b>inner</b>',
  '--b2--',
  '',
  '--b1',
  'Content-Type: multipart/digest; boundary=d',
  '',
  '--d',
  '',
  'Subject: digest item',
  '',
  'item body',
  '--d--',
  '--b1--',
  '',
]);

/** No From/Date/Subject/Content-Type at all, LF-only line ends. */
export const MISSING = Buffer.from('X-Only: this\n\nbody without headers\n');

/** Boundary never closed, one part with a header but no blank line, an unparsable Content-Type. */
export const MALFORMED = crlf([
  'From: broken@example.com',
  'Content-Type: multipart/mixed; boundary="zz"',
  '',
  '--zz',
  'Content-Type: text/plain',
  '',
  'first',
  '--zz',
  'Content-Type: garbage',
  '--zz',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'no closing delimiter follows',
  '',
]);

/** Raw 8-bit UTF-8 in a header and the body (RFC 6532 style). */
export const EIGHT_BIT = crlf([
  'From: Jörg <joerg@example.de>',
  'Subject: Grüße',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  'Schöne Grüße aus München',
  '',
]);

/** A multipart message with a `size`-byte base64 attachment, generated in chunks (never whole). */
export async function* largeMessage(size: number): AsyncGenerator<Buffer> {
  yield crlf([
    'From: big@example.com',
    'Subject: large',
    'Content-Type: multipart/mixed; boundary=BIG',
    '',
    '--BIG',
    'Content-Type: text/plain',
    '',
    'the attachment follows',
    '--BIG',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    '',
  ]);
  const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\r\n'); // 66 bytes
  const block = Buffer.concat(Array.from({ length: 1000 }, () => line));
  let sent = 0;
  while (sent + block.length <= size) {
    yield block;
    sent += block.length;
  }
  yield Buffer.from('--BIG--\r\n');
}
