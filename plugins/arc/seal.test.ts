import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { pem } from '../../core/auth-results/test-support.ts';
import { loadSealKey, splitFields } from './seal.ts';

test('splitFields keeps folded values and splits fields', () => {
  assert.deepEqual(splitFields('ARC-Seal: i=1; a=rsa-sha256;\r\n b=abc\r\nARC-Authentication-Results: i=1; mx; none\r\n'), [
    { name: 'ARC-Seal', value: 'i=1; a=rsa-sha256;\r\n b=abc' },
    { name: 'ARC-Authentication-Results', value: 'i=1; mx; none' },
  ]);
});

test('the sealing key must be an RSA key of 1024 bits or more', () => {
  assert.equal(loadSealKey('d.test', 's', pem(generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)).domain, 'd.test');
  assert.throws(() => loadSealKey('d.test', 's', pem(generateKeyPairSync('ed25519').privateKey)), /use an RSA key/);
  assert.throws(() => loadSealKey('d.test', 's', pem(generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey)), /at least 1024/);
  assert.throws(() => loadSealKey('d.test', 's', 'not a key'), /not a PEM private key/);
});
