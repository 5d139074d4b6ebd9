import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { dnsRecord, parseSigningKey } from '../../plugins/dkim-sign/keys.ts';
import { zoneLine } from './dkim.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = path.join(ROOT, 'bin', 'pochta.js');

async function pochta(args: string[], cwd: string) {
  return promisify(execFile)(process.execPath, [BIN, ...args], { cwd }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

/** The TXT record text from the zone line printed by keygen (strings joined). */
function printedRecord(stdout: string): string {
  const m = /_domainkey\.[^ ]+\. 3600 IN TXT \(([\s\S]*?)\)/.exec(stdout);
  assert.ok(m, stdout);
  return [...m[1].matchAll(/"([^"]*)"/g)].map((x) => x[1]).join('');
}

test('dkim keygen writes a 0600 key under dataDir/dkim and prints the matching DNS record; record prints it again', { timeout: 60_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-dkim-'));
  try {
    await writeFile(path.join(dir, 'pochta.config.yaml'), 'hostname: mail.cli.test\ndataDir: ./data\n');
    const rsa = await pochta(['dkim', 'keygen', 'Example.COM', '--selector', 'mail2026'], dir);
    assert.equal(rsa.code, 0, rsa.stderr);
    const file = path.join(dir, 'data', 'dkim', 'example.com.mail2026.key');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const key = parseSigningKey(await readFile(file), 'rsa-sha256', file);
    assert.equal(key.asymmetricKeyDetails?.modulusLength, 2048);
    assert.match(rsa.stdout, /mail2026\._domainkey\.example\.com\. 3600 IN TXT/);
    assert.equal(printedRecord(rsa.stdout), dnsRecord(key));
    assert.match(rsa.stdout, /- \{ selector: mail2026, algorithm: rsa-sha256 \}/);

    const again = await pochta(['dkim', 'keygen', 'example.com', '--selector', 'mail2026'], dir);
    assert.equal(again.code, 1, 'an existing key is not replaced without --force');
    assert.match(again.stderr, /exists/);

    const ed = await pochta(['dkim', 'keygen', 'example.com', '-s', 'ed', '-a', 'ed25519'], dir);
    assert.equal(ed.code, 0, ed.stderr);
    const edKey = parseSigningKey(await readFile(path.join(dir, 'data', 'dkim', 'example.com.ed.key')), 'ed25519-sha256', 'ed');
    assert.match(printedRecord(ed.stdout), /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}=$/);
    assert.equal(printedRecord(ed.stdout), dnsRecord(edKey));

    const rec = await pochta(['dkim', 'record', 'example.com', '-s', 'mail2026'], dir);
    assert.equal(rec.code, 0, rec.stderr);
    assert.equal(printedRecord(rec.stdout), dnsRecord(key));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('zone lines split long records into 255-octet strings', () => {
  const line = zoneLine('s._domainkey.example.com', 'x'.repeat(600));
  assert.deepEqual([...line.matchAll(/"([^"]*)"/g)].map((m) => m[1].length), [255, 255, 90]);
});
