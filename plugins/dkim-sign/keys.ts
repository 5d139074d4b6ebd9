import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { DkimAlgorithm } from './sign.ts';

const KEY_TYPE: Readonly<Record<DkimAlgorithm, string>> = { 'rsa-sha256': 'rsa', 'ed25519-sha256': 'ed25519' };

/** Parse a PEM private key and check it fits the algorithm (RFC 8301 §3.2: RSA keys of at least 1024 bits). */
export function parseSigningKey(pem: string | Buffer, algorithm: DkimAlgorithm, where: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${where}: not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== KEY_TYPE[algorithm]) {
    throw new Error(`${where}: a ${key.asymmetricKeyType ?? 'unknown'} key cannot sign ${algorithm}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength;
  if (algorithm === 'rsa-sha256' && bits !== undefined && bits < 1024) throw new Error(`${where}: RSA keys must have at least 1024 bits (RFC 8301), this one has ${bits}`);
  return key;
}

/** The DNS TXT record that publishes a key (RFC 6376 §3.6.1; Ed25519 keys are the raw 32 bytes, RFC 8463 §4.2). */
export function dnsRecord(privateKey: KeyObject): string {
  const pub = createPublicKey(privateKey);
  const der = pub.export({ type: 'spki', format: 'der' });
  if (pub.asymmetricKeyType === 'ed25519') return `v=DKIM1; k=ed25519; p=${der.subarray(der.length - 32).toString('base64')}`;
  return `v=DKIM1; k=rsa; p=${der.toString('base64')}`;
}

/** A new key pair as PEM (PKCS#8): RSA 2048 bits (RFC 8301 recommends at least that) or Ed25519. */
export function generateSigningKey(kind: 'rsa' | 'ed25519', rsaBits = 2048): string {
  const pair = kind === 'rsa' ? generateKeyPairSync('rsa', { modulusLength: rsaBits }) : generateKeyPairSync('ed25519');
  return pair.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** Where `pochta dkim keygen` puts a key, relative to the data directory. */
export function defaultKeyFile(domain: string, selector: string): string {
  return `dkim/${domain}.${selector}.key`;
}
