import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { composeMessage, headerPrefix, removedHeaders } from '../queue/compose.ts';
import type { NotifyRecipient } from '../queue/notify-port.ts';
import { dsnMessage, quotedPrintable, type DsnInput } from './message.ts';
import { diagnosticCode, xtextDecode } from './fields.ts';
import { collect, mimeParts, statusBlocks } from './test-support.ts';

const ORIGINAL = 'Received: from client (x [192.0.2.1]) by mail.example.net; Fri, 27 Nov 2026 10:00:00 +0000\r\n'
  + 'From: Alice <alice@pochta.test>\r\nTo: bob@remote.test, carol@remote.test\r\nSubject: Quarterly numbers\r\n'
  + 'Message-ID: <orig-1@pochta.test>\r\nX-Remove-Me: secret\r\n\r\nThe numbers are attached.\r\n';
const EDITS = [{ op: 'add' as const, name: 'X-Added', value: 'by a plugin' }, { op: 'remove' as const, name: 'X-Remove-Me' }];
const ARRIVAL = Date.UTC(2026, 10, 27, 10, 0, 0);

const FAILED: NotifyRecipient[] = [
  { address: 'bob@remote.test', orcpt: 'rfc822;Bob+2BSales@remote.test', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 <bob@remote.test>: no such user', remoteMta: 'mx1.remote.test', lastAttemptAt: ARRIVAL + 60_000 },
  { address: 'carol@remote.test', action: 'failed', status: '5.4.7', diagnostic: 'gave up after 12 attempts: connection timed out', lastAttemptAt: ARRIVAL + 5 * 86_400_000 },
];

function input(over: Partial<DsnInput> = {}, raw = ORIGINAL): DsnInput {
  return {
    kind: 'failure',
    hostname: 'mail.example.net',
    to: 'alice@pochta.test',
    queueId: '00MWZH0000000000ORIG',
    report: { reportingMta: 'mail.example.net', envid: 'QQ+2B314', arrivalDate: ARRIVAL, recipients: FAILED },
    original: {
      stream: () => composeMessage(headerPrefix(EDITS), { kind: 'memory', bytes: Buffer.from(raw) }, removedHeaders(EDITS)),
      subject: 'Quarterly numbers',
      messageId: '<orig-1@pochta.test>',
      eightBit: false,
      utf8Headers: false,
    },
    full: true,
    now: ARRIVAL + 5 * 86_400_000,
    ...over,
  };
}

async function build(over: Partial<DsnInput> = {}, raw = ORIGINAL) {
  const bytes = await collect(dsnMessage(input(over, raw)));
  const text = bytes.toString('utf8');
  const parsed = await simpleParser(bytes);
  const ct = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
  return { bytes, text, parsed, ct, parts: mimeParts(text, ct.params.boundary) };
}

test('failure notice: multipart/report with a text part, a delivery-status part and the whole original (RET=FULL)', async () => {
  const { parsed, ct, parts, text } = await build();
  // Top level (RFC 3464 §2, RFC 3834 §5).
  assert.equal(parsed.from?.value[0].address, 'MAILER-DAEMON@mail.example.net');
  assert.equal(parsed.from?.value[0].name, 'Mail Delivery System');
  assert.equal((parsed.to as { value: Array<{ address: string }> }).value[0].address, 'alice@pochta.test');
  assert.equal(parsed.subject, 'Undelivered Mail Returned to Sender');
  assert.equal(parsed.headers.get('auto-submitted'), 'auto-replied');
  assert.equal(parsed.inReplyTo, '<orig-1@pochta.test>');
  assert.equal(ct.value, 'multipart/report');
  assert.equal(ct.params['report-type'], 'delivery-status');
  assert.match(text, /\r\n--=_dsn_[0-9a-f]{24}--\r\n$/, 'closing delimiter');
  assert.equal(parts.length, 3);
  assert.match(parts[0].headers, /^Content-Type: text\/plain; charset=us-ascii$/m);
  assert.match(parts[1].headers, /^Content-Type: message\/delivery-status$/m);
  assert.match(parts[2].headers, /^Content-Type: message\/rfc822$/m);

  // Human text: who, why, the remote reply.
  assert.match(parsed.text ?? '', /could not be delivered to the 2 recipients below/);
  assert.match(parsed.text ?? '', /<bob@remote\.test>\s+The mail server mx1\.remote\.test answered:\s+550 5\.1\.1 <bob@remote\.test>: no such user/);
  assert.match(parsed.text ?? '', /<carol@remote\.test>\s+Reason: gave up after 12 attempts: connection timed out/);
  assert.match(parsed.text ?? '', /Subject: Quarterly numbers/);

  // message/delivery-status, field by field (RFC 3464 §2.2, §2.3).
  const [msg, bob, carol] = statusBlocks(parts[1].body);
  assert.deepEqual(msg, { 'reporting-mta': 'dns; mail.example.net', 'original-envelope-id': 'QQ+314', 'arrival-date': 'Fri, 27 Nov 2026 10:00:00 +0000' });
  assert.deepEqual(bob, {
    'original-recipient': 'rfc822;Bob+Sales@remote.test',
    'final-recipient': 'rfc822;bob@remote.test',
    action: 'failed',
    status: '5.1.1',
    'remote-mta': 'dns; mx1.remote.test',
    'diagnostic-code': 'smtp; 550 5.1.1 <bob@remote.test>: no such user',
    'last-attempt-date': 'Fri, 27 Nov 2026 10:01:00 +0000',
  });
  assert.deepEqual(carol, {
    'final-recipient': 'rfc822;carol@remote.test',
    action: 'failed',
    status: '5.4.7',
    'diagnostic-code': 'smtp; 550 5.4.7 gave up after 12 attempts: connection timed out',
    'last-attempt-date': 'Wed, 2 Dec 2026 10:00:00 +0000',
  });

  // The original as it was sent: header edits applied (added header first, removed one gone).
  const att = parsed.attachments.find((a) => a.contentType === 'message/rfc822');
  assert.ok(att, `attachments: ${parsed.attachments.map((a) => a.contentType).join(', ')}`);
  const orig = att.content.toString('latin1');
  assert.ok(orig.startsWith('X-Added: by a plugin\r\nReceived: '));
  assert.doesNotMatch(orig, /X-Remove-Me/);
  assert.match(orig, /\r\n\r\nThe numbers are attached\.\r\n$/);
  const inner = await simpleParser(att.content);
  assert.equal(inner.messageId, '<orig-1@pochta.test>');
});

test('RET=HDRS (or an original over the size cap): only the header section, as text/rfc822-headers', async () => {
  const { parsed, parts } = await build({ full: false });
  assert.match(parts[2].headers, /^Content-Type: text\/rfc822-headers$/m);
  assert.match(parts[2].body, /^X-Added: by a plugin\r\nReceived: /);
  assert.match(parts[2].body, /Subject: Quarterly numbers\r\n/);
  assert.doesNotMatch(parts[2].body, /numbers are attached/);
  assert.equal(parsed.attachments.some((a) => a.contentType === 'message/rfc822'), false);
  assert.match(parsed.text ?? '', /The header section of the original message is attached/);
});

test('headers only: a huge original is not read past its header section', async () => {
  let read = 0;
  const big = async function* () {
    yield Buffer.from('Subject: huge\r\nFrom: a@pochta.test\r\n\r\n');
    for (let i = 0; i < 10_000; i++) {
      read += 64 * 1024;
      yield Buffer.alloc(64 * 1024, 0x61);
    }
  };
  const bytes = await collect(dsnMessage(input({ full: false, original: { stream: () => Readable.from(big()), eightBit: false, utf8Headers: false } })));
  assert.ok(read <= 2 * 64 * 1024, `read ${read} bytes of the body`);
  assert.match(bytes.toString(), /Subject: huge\r\nFrom: a@pochta\.test\r\n\r\n--=_dsn_[0-9a-f]+--\r\n$/);
});

test('delay warning: Action delayed, Will-Retry-Until, headers only, own subject', async () => {
  const until = ARRIVAL + 5 * 86_400_000;
  const delayed: NotifyRecipient[] = [{ address: 'bob@remote.test', action: 'delayed', status: '4.4.1', diagnostic: 'connection refused', remoteMta: 'mx1.remote.test', lastAttemptAt: ARRIVAL + 4 * 3_600_000, willRetryUntil: until }];
  const { parsed, parts } = await build({ kind: 'delay', full: false, report: { reportingMta: 'mail.example.net', arrivalDate: ARRIVAL, recipients: delayed } });
  assert.equal(parsed.subject, 'Delayed Mail (still being retried)');
  const [msg, bob] = statusBlocks(parts[1].body);
  assert.equal(msg['original-envelope-id'], undefined);
  assert.equal(bob.action, 'delayed');
  assert.equal(bob.status, '4.4.1');
  assert.equal(bob['will-retry-until'], 'Wed, 2 Dec 2026 10:00:00 +0000');
  assert.equal(bob['diagnostic-code'], 'smtp; 451 4.4.1 connection refused');
  assert.match(parsed.text ?? '', /keeps trying\s+until Wed, 2 Dec 2026 10:00:00 \+0000/);
  assert.match(parts[2].headers, /text\/rfc822-headers/);
});

test('a non-ASCII subject makes the text part UTF-8 quoted-printable; it decodes back', async () => {
  const { parsed, parts } = await build({ original: { ...input().original, subject: 'Отчёт за квартал' } });
  assert.match(parts[0].headers, /charset=utf-8/);
  assert.match(parts[0].headers, /quoted-printable/);
  assert.match(parsed.text ?? '', /Subject: Отчёт за квартал/);
  for (const l of parts[0].body.split('\r\n')) assert.ok(l.length <= 76, l);
  assert.equal(quotedPrintable('a=b '), 'a=3Db=20');
});

test('field helpers: xtext, diagnostic types, no line breaks smuggled from a remote reply', () => {
  assert.equal(xtextDecode('a+2Bb+3Dc'), 'a+b=c');
  assert.equal(diagnosticCode('smtp;550 no', '5.0.0'), 'smtp; 550 no');
  assert.equal(diagnosticCode('550-first\r\n550 second', '5.0.0'), 'smtp; 550-first 550 second');
  assert.equal(diagnosticCode(undefined, '5.0.0'), undefined);
});

test('an original that is gone: two parts, and the text says so', async () => {
  const { parts, parsed, text } = await build({ original: { subject: 'Quarterly numbers', eightBit: false, utf8Headers: false } });
  assert.equal(parts.length, 2);
  assert.match(parsed.text ?? '', /no longer available/);
  assert.match(text, /\r\n\r\n--=_dsn_[0-9a-f]{24}--\r\n$/);
  assert.equal(statusBlocks(parts[1].body)[1]['final-recipient'], 'rfc822;bob@remote.test');
});

test('the header section is cut at the empty line even when it falls across chunks', async () => {
  const raw = Buffer.from('Subject: split\r\nFrom: a@pochta.test\r\n\r\nbody line\r\n');
  for (const size of [1, 2, 3, 5, 7]) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < raw.length; i += size) chunks.push(raw.subarray(i, i + size));
    const bytes = await collect(dsnMessage(input({ full: false, original: { stream: () => Readable.from(chunks), eightBit: false, utf8Headers: false } })));
    const text = bytes.toString();
    assert.match(text, /Content-Type: text\/rfc822-headers\r\n[^]*?\r\n\r\nSubject: split\r\nFrom: a@pochta\.test\r\n\r\n--=_dsn_[0-9a-f]+--\r\n$/, `chunk size ${size}`);
    assert.doesNotMatch(text, /body line/);
  }
});

test('an internationalized recipient: utf-8 address type and message/global-delivery-status (RFC 6533)', async () => {
  const intl: NotifyRecipient[] = [{ address: 'пользователь@почта.рф', action: 'failed', status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 unknown' }];
  const { parts } = await build({ report: { reportingMta: 'mail.example.net', arrivalDate: ARRIVAL, recipients: intl } });
  assert.match(parts[1].headers, /^Content-Type: message\/global-delivery-status$/m);
  assert.match(parts[1].headers, /^Content-Transfer-Encoding: 8bit$/m);
  assert.equal(statusBlocks(parts[1].body)[1]['final-recipient'], 'utf-8;пользователь@почта.рф');
});
