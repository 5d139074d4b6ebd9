import type { Command } from 'commander';
import { constants } from 'node:fs';
import { mkdir, open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import { defaultKeyFile, dnsRecord, generateSigningKey, parseSigningKey } from '../../plugins/dkim-sign/keys.ts';
import { loadForCli, type GlobalOpts } from './load-for-cli.ts';

/** A TXT record in zone-file form, split into strings of at most 255 octets (RFC 1035 §3.3.14). */
export function zoneLine(name: string, record: string): string {
  const parts = record.match(/.{1,255}/g) ?? [''];
  return `${name}. 3600 IN TXT ( ${parts.map((p) => `"${p}"`).join('\n\t')} )`;
}

function checkDomain(raw: string): string {
  const d = domainToASCII(raw.trim().replace(/\.$/, '').toLowerCase());
  if (!d || !d.includes('.')) throw new Error(`not a domain name: ${raw}`);
  return d;
}

function defaultSelector(now = new Date()): string {
  // Dated selectors make key rotation easy: publish the new one, switch, retire the old.
  return `s${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
}

/** `pochta dkim keygen|record`: make a DKIM key under dataDir/dkim/ and print what to publish in DNS. */
export function dkimCommand(program: Command, globals: () => GlobalOpts): void {
  const dkim = program.command('dkim').description('DKIM signing keys (plugin dkim-sign)');
  dkim.command('keygen <domain>')
    .description('Create a signing key (mode 0600) under dataDir/dkim/ and print the DNS TXT record to publish')
    .option('-s, --selector <selector>', 'selector (default: s<YYYYMM>)')
    .option('-a, --algorithm <algorithm>', 'rsa (2048 bits) or ed25519', 'rsa')
    .option('--bits <n>', 'RSA key size', '2048')
    .option('--force', 'replace an existing key file')
    .action(async (rawDomain: string, o: { selector?: string; algorithm: string; bits: string; force?: boolean }) => {
      if (o.algorithm !== 'rsa' && o.algorithm !== 'ed25519') throw new Error('--algorithm must be rsa or ed25519');
      const bits = Number(o.bits);
      if (!Number.isInteger(bits) || bits < 1024 || bits > 8192) throw new Error('--bits must be between 1024 and 8192 (RFC 8301: at least 1024, 2048 recommended)');
      const domain = checkDomain(rawDomain);
      const selector = (o.selector ?? defaultSelector()).toLowerCase();
      if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(selector)) throw new Error(`not a selector: ${selector}`);
      const { loaded } = await loadForCli(globals());
      const rel = defaultKeyFile(domain, selector);
      const file = path.resolve(loaded.dataDir, rel);
      await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
      const pem = generateSigningKey(o.algorithm, bits);
      const flags = constants.O_WRONLY | constants.O_CREAT | (o.force ? constants.O_TRUNC : constants.O_EXCL);
      const fh = await open(file, flags, 0o600).catch((err: NodeJS.ErrnoException) => {
        throw new Error(err.code === 'EEXIST' ? `${file} exists; pick another --selector, or --force to replace it` : err.message);
      });
      try {
        await fh.writeFile(pem);
        await fh.chmod(0o600);
        await fh.sync();
      } finally {
        await fh.close();
      }
      const algorithm = o.algorithm === 'rsa' ? 'rsa-sha256' : 'ed25519-sha256';
      const record = dnsRecord(parseSigningKey(pem, algorithm, file));
      console.log(`key written: ${file}`);
      console.log('\nPublish this DNS record:\n');
      console.log(zoneLine(`${selector}._domainkey.${domain}`, record));
      console.log('\nThen sign with it (pochta.config.yaml):\n');
      console.log(`plugins:\n  dkim-sign:\n    domains:\n      ${domain}:\n        - { selector: ${selector}, algorithm: ${algorithm} }`);
    });
  dkim.command('record <domain>')
    .description('Print the DNS TXT record of an existing key')
    .requiredOption('-s, --selector <selector>', 'selector')
    .option('-a, --algorithm <algorithm>', 'rsa or ed25519', 'rsa')
    .action(async (rawDomain: string, o: { selector: string; algorithm: string }) => {
      const domain = checkDomain(rawDomain);
      const { loaded } = await loadForCli(globals());
      const file = path.resolve(loaded.dataDir, defaultKeyFile(domain, o.selector));
      const pem = await readFile(file);
      console.log(zoneLine(`${o.selector}._domainkey.${domain}`, dnsRecord(parseSigningKey(pem, o.algorithm === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256', file))));
    });
}
