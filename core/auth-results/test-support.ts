/**
 * Test support for the authentication plugins: keys generated per run (RSA-2048, Ed25519), their
 * DKIM key records, signing with mailauth, and a zone for the test DNS server.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { dkimSign } from 'mailauth';
import type { DnsZone } from '../testing/dns-server.ts';

export interface TestKeys {
  readonly rsa: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
  readonly ed: { readonly privateKey: KeyObject; readonly publicKey: KeyObject };
}

export function generateTestKeys(): TestKeys {
  return { rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }), ed: generateKeyPairSync('ed25519') };
}

export const pem = (k: KeyObject): string => k.export({ type: 'pkcs8', format: 'pem' }) as string;

/** The DKIM key record (RFC 6376 §3.6.1; Ed25519: the raw 32-byte key, RFC 8463 §4). */
export function dkimRecord(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return publicKey.asymmetricKeyType === 'ed25519'
    ? `v=DKIM1; k=ed25519; p=${der.subarray(12).toString('base64')}`
    : `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

export interface Signer {
  readonly domain: string;
  readonly selector: string;
  readonly key: KeyObject;
}

/** The message with DKIM-Signature fields prepended (mailauth reads only `signatureData`). */
export async function signMessage(message: string, signers: readonly Signer[]): Promise<string> {
  const res = await dkimSign(message, {
    canonicalization: 'relaxed/relaxed',
    signatureData: signers.map((s) => ({
      signingDomain: s.domain,
      selector: s.selector,
      privateKey: pem(s.key),
      algorithm: s.key.asymmetricKeyType === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256',
    })),
  } as unknown as Parameters<typeof dkimSign>[1]);
  assert.deepEqual(res.errors, []);
  assert.match(res.signatures, /^DKIM-Signature:/);
  return res.signatures + message;
}

/**
 * Domains for the tests (clients connect from 127.0.0.1):
 * - pass.test: SPF pass through include:, DKIM keys rsa1/ed1, p=reject
 * - fail.test: SPF -all without 127.0.0.1; soft.test: ~all; slow.test: never answers
 * - reject.test / quar.test / none.test: SPF pass, DMARC p=reject / p=quarantine / p=none
 * - pct0.test: p=reject; pct=0; strict.test: adkim=s aspf=s, p=reject
 */
export function testZone(keys: TestKeys): DnsZone {
  const spfPass = 'v=spf1 include:_spf.pass.test -all';
  return {
    '_spf.pass.test': { TXT: ['v=spf1 ip4:127.0.0.1 -all'] },
    'pass.test': { TXT: [spfPass] },
    '_dmarc.pass.test': { TXT: ['v=DMARC1; p=reject'] },
    'rsa1._domainkey.pass.test': { TXT: [dkimRecord(keys.rsa.publicKey)] },
    'ed1._domainkey.pass.test': { TXT: [dkimRecord(keys.ed.publicKey)] },
    'fail.test': { TXT: ['v=spf1 ip4:192.0.2.1 -all'] },
    'soft.test': { TXT: ['v=spf1 ip4:192.0.2.1 ~all'] },
    'slow.test': { silent: true },
    '_dmarc.slow.test': { silent: true },
    'reject.test': { TXT: [spfPass] },
    '_dmarc.reject.test': { TXT: ['v=DMARC1; p=reject; rua=mailto:d@reject.test'] },
    'quar.test': { TXT: [spfPass] },
    '_dmarc.quar.test': { TXT: ['v=DMARC1; p=quarantine'] },
    'none.test': { TXT: [spfPass] },
    '_dmarc.none.test': { TXT: ['v=DMARC1; p=none'] },
    '_dmarc.pct0.test': { TXT: ['v=DMARC1; p=reject; pct=0'] },
    'strict.test': { TXT: [spfPass] },
    '_dmarc.strict.test': { TXT: ['v=DMARC1; p=reject; adkim=s; aspf=s'] },
    'mail.strict.test': { TXT: [spfPass] },
  };
}

/** A plain message. */
export function message(from: string, subject: string, extra = ''): string {
  return `From: ${from}\r\nTo: carol@pochta.test\r\nSubject: ${subject}\r\nDate: Fri, 27 Nov 2026 20:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W+/g, '-')}@test>\r\n${extra}\r\nHello ${subject}.\r\n`;
}

/** The Authentication-Results fields of a delivered message, unfolded. */
export function authResultsFields(raw: string): string[] {
  const head = raw.slice(0, raw.indexOf('\r\n\r\n') + 2);
  return head.split(/\r\n(?![ \t])/).filter((l) => /^authentication-results:/i.test(l)).map((l) => l.replace(/\r\n[ \t]+/g, ' ').replace(/^[^:]+:\s*/, ''));
}
