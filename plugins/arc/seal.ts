/** Adding an ARC set (RFC 8617 §5.1) through mailauth's sealer: pure apart from the crypto. */
import type { Readable } from 'node:stream';
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { sealMessage } from 'mailauth';

export interface SealKey {
  readonly domain: string;
  readonly selector: string;
  readonly privateKey: string;
}

/**
 * Checks the PEM. mailauth 4.13 signs ARC-Message-Signature with rsa-sha256 only (its signer
 * fixes the algorithm; an Ed25519 key yields no signature), so the key must be RSA.
 */
export function loadSealKey(domain: string, selector: string, pem: string): SealKey {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`ARC sealing key is not a PEM private key: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'rsa') throw new Error(`ARC sealing key type ${String(key.asymmetricKeyType)} is not supported: use an RSA key`);
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) throw new Error(`ARC sealing key has ${bits} bits; RSA keys need at least 1024 (RFC 8301)`);
  return { domain, selector, privateKey: pem };
}

/** One header field, split for tx.addHeader (the value keeps its folding). */
export interface HeaderField {
  readonly name: string;
  readonly value: string;
}

/** Splits "Name: value\r\n\tmore\r\nName2: …" into fields. */
export function splitFields(block: string): HeaderField[] {
  return block
    .replace(/\r?\n$/, '')
    .split(/\r?\n(?![ \t])/)
    .filter((l) => l.trim())
    .map((line) => {
      const colon = line.indexOf(':');
      return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).replace(/^[ \t]+/, '').replace(/\r?\n/g, '\r\n') };
    });
}

/**
 * The ARC set for `message` (the message as it leaves), top to bottom: ARC-Seal,
 * ARC-Message-Signature, ARC-Authentication-Results. `authResults` is our A-R value
 * (authserv-id; results), `cv` the validation status of the chain that arrived.
 */
export async function arcSet(message: Readable, key: SealKey, authResults: string, cv: 'none' | 'pass' | 'fail', signTime: Date): Promise<HeaderField[]> {
  // authResults and cv are read by the sealer although mailauth's typings do not list them.
  const block = await sealMessage(message, { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey, algorithm: 'rsa-sha256', signTime, ...{ authResults, cv } });
  const fields = splitFields(block.toString('utf8'));
  const names = fields.map((f) => f.name.toLowerCase()).sort().join(',');
  if (names !== 'arc-authentication-results,arc-message-signature,arc-seal') throw new Error(`ARC sealing produced unexpected fields: ${names || 'none'}`);
  return fields;
}
