import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as dnsp } from 'node:dns';
import { Readable } from 'node:stream';
import { authenticate } from 'mailauth';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { RelaxedBodyHash, relaxedHeader } from './canonical.ts';
import { DEFAULT_HEADERS, DEFAULT_OVERSIGN } from './config.ts';
import { dnsRecord, generateSigningKey, parseSigningKey } from './keys.ts';
import { headerList, readForSigning, signatures, type SigningKey } from './sign.ts';
import { signingDomain, fromAddress } from './domain.ts';

const rsa = parseSigningKey(generateSigningKey('rsa'), 'rsa-sha256', 'test');
const ed = parseSigningKey(generateSigningKey('ed25519'), 'ed25519-sha256', 'test');
const KEYS: SigningKey[] = [{ selector: 'rsa1', algorithm: 'rsa-sha256', key: rsa }, { selector: 'ed1', algorithm: 'ed25519-sha256', key: ed }];

const MESSAGE = 'Received: by mail.pochta.test id X;\r\n\tFri, 27 Nov 2026 10:00:00 +0000\r\n'
  + 'From: Alice <alice@pochta.test>\r\nTo: bob@remote.test,\r\n  carol@remote.test\r\nSubject:   Folded    and\r\n\t spaced \r\n'
  + 'Date: Fri, 27 Nov 2026 10:00:00 +0000\r\nMessage-ID: <sig-1@pochta.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
  + 'Hello  Bob,\t \r\n\r\n  indented line  \r\nlast line\r\n\r\n\r\n';

let dns: TestDnsServer;
const resolver = new dnsp.Resolver({ timeout: 2000, tries: 2 });

async function verify(message: Buffer) {
  const res = await authenticate(message, {
    ip: '192.0.2.1', helo: 'mail.pochta.test', sender: 'alice@pochta.test', mta: 'mx.remote.test',
    resolver: (name: string, type: string) => resolver.resolve(name, type as 'TXT'),
    disableArc: true, disableBimi: true, disableDmarc: true,
  });
  return res.dkim.results.map((r) => `${r.signingDomain}/${r.selector} ${r.status.result}`);
}

async function sign(raw: string | Buffer, keys = KEYS, domain = 'pochta.test') {
  const read = await readForSigning(Readable.from([Buffer.from(raw)]));
  const values = signatures(read, { domain, keys, headers: DEFAULT_HEADERS, oversign: DEFAULT_OVERSIGN, now: Math.floor(Date.now() / 1000) });
  return { values, signed: Buffer.concat([Buffer.from(values.map((v) => `DKIM-Signature: ${v}\r\n`).join('')), Buffer.from(raw)]) };
}

describe('DKIM signatures verified by mailauth against a real DNS server', () => {
  before(async () => {
    dns = await startDnsServer({
      'rsa1._domainkey.pochta.test': { TXT: [dnsRecord(rsa)] },
      'ed1._domainkey.pochta.test': { TXT: [dnsRecord(ed)] },
    });
    resolver.setServers([dns.server]);
  });
  after(async () => dns.close());

  test('RSA-2048 and Ed25519 (dual signing) both pass', async () => {
    const { signed, values } = await sign(MESSAGE);
    assert.equal(values.length, 2);
    assert.deepEqual(await verify(signed), ['pochta.test/rsa1 pass', 'pochta.test/ed1 pass']);
    assert.equal(rsa.asymmetricKeyDetails?.modulusLength, 2048);
    assert.ok(dns.queries.includes('TXT rsa1._domainkey.pochta.test'));
  });

  test('a tampered body, a changed subject or an added From fails', async () => {
    const { signed } = await sign(MESSAGE);
    const body = Buffer.from(signed.toString('latin1').replace('last line', 'last lime'), 'latin1');
    // mailauth reports a body hash mismatch as neutral ("body hash did not verify"): not a pass.
    assert.deepEqual(await verify(body), ['pochta.test/rsa1 neutral', 'pochta.test/ed1 neutral']);
    const subject = Buffer.from(signed.toString('latin1').replace('Folded', 'Changed'), 'latin1');
    assert.ok((await verify(subject)).every((r) => r.endsWith(' fail')), 'header change fails');
    // Oversigning: a second From prepended by someone else breaks the signature.
    const extra = Buffer.from('From: mallory@evil.test\r\n' + signed.toString('latin1'), 'latin1');
    assert.ok((await verify(extra)).every((r) => !r.endsWith(' pass')));
  });

  test('edge bodies: empty, only blank lines, no final CRLF, long and 8-bit lines', async () => {
    for (const body of ['', '\r\n\r\n\r\n', 'no newline at end', ' \t \r\nx'.repeat(3), 'ü'.repeat(500) + '\r\n', 'a'.repeat(200_000) + '\r\n']) {
      const raw = 'From: alice@pochta.test\r\nSubject: edge\r\n\r\n' + body;
      const { signed } = await sign(Buffer.from(raw, 'utf8'));
      assert.deepEqual(await verify(signed), ['pochta.test/rsa1 pass', 'pochta.test/ed1 pass'], JSON.stringify(body.slice(0, 20)));
    }
  });

  test('a body split across many small chunks hashes the same', async () => {
    const whole = await readForSigning(Readable.from([Buffer.from(MESSAGE)]));
    const bytes = Buffer.from(MESSAGE);
    for (const size of [1, 2, 3, 7]) {
      const pieces: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.subarray(i, i + size));
      const split = await readForSigning(Readable.from(pieces));
      assert.equal(split.bodyHash, whole.bodyHash, `chunk size ${size}`);
      assert.deepEqual(split.fields, whole.fields, `chunk size ${size}`);
    }
  });
});

test('relaxed canonicalization (RFC 6376 §3.4.5 example)', () => {
  assert.equal(relaxedHeader('A: X'), 'a:X');
  assert.equal(relaxedHeader('B : Y\t\r\n\tZ  '), 'b:Y Z');
  const h = new RelaxedBodyHash();
  h.update(Buffer.from(' C \r\nD \t E\r\n\r\n\r\n'));
  const expected = new RelaxedBodyHash();
  expected.update(Buffer.from(' C\r\nD E\r\n'));
  assert.equal(h.digest(), expected.digest());
});

test('h= lists present fields, plus one more of each oversigned one', () => {
  const fields = ['From: a@b', 'Subject: x', 'Received: y', 'Received: z'];
  assert.deepEqual(headerList(fields, ['From', 'Subject', 'To'], ['From', 'Reply-To']), ['From', 'From', 'Subject', 'Reply-To']);
});

test('signing domain: the From domain, or its nearest parent with keys; never a bare TLD', () => {
  const has = (d: string) => d === 'example.com';
  assert.equal(signingDomain(fromAddress('"A" <a@news.Example.COM>'), has), 'example.com');
  assert.equal(signingDomain(fromAddress('a@example.com'), has), 'example.com');
  assert.equal(signingDomain(fromAddress('a@other.org'), has), undefined);
  assert.equal(signingDomain(fromAddress('a@com'), (d) => d === 'com'), undefined);
  assert.equal(signingDomain(undefined, has), undefined);
});
