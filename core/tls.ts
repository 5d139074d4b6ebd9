import { mkdir, readFile, writeFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { Logger } from './log.ts';

export interface TlsMaterial {
  key: Buffer;
  cert: Buffer;
  /** 'config' or the path of the generated self-signed pair. */
  origin: string;
}

async function exists(p: string): Promise<boolean> {
  try {
    await readFile(p);
    return true;
  } catch {
    return false;
  }
}

/**
 * The certificate and key from config, or a self-signed pair generated into the data directory
 * on first start (and reused after), with a log line saying so: clients will warn about it.
 */
export async function loadTls(opts: { cert?: string | undefined; key?: string | undefined; baseDir: string; dataDir: string; hostname: string; log: Logger }): Promise<TlsMaterial> {
  if (opts.cert || opts.key) {
    if (!opts.cert || !opts.key) throw new Error('tls.cert and tls.key must be set together');
    const certPath = path.resolve(opts.baseDir, opts.cert);
    const keyPath = path.resolve(opts.baseDir, opts.key);
    const [cert, key] = await Promise.all([
      readFile(certPath).catch(() => { throw new Error(`tls.cert: cannot read ${certPath}`); }),
      readFile(keyPath).catch(() => { throw new Error(`tls.key: cannot read ${keyPath}`); }),
    ]);
    return { cert, key, origin: 'config' };
  }
  const dir = path.join(opts.dataDir, 'tls');
  const certPath = path.join(dir, 'self-signed.crt');
  const keyPath = path.join(dir, 'self-signed.key');
  if ((await exists(certPath)) && (await exists(keyPath))) {
    return { cert: await readFile(certPath), key: await readFile(keyPath), origin: certPath };
  }
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pems = await generate([{ name: 'commonName', value: opts.hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: opts.hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
  });
  await writeFile(keyPath + '.tmp', pems.private, { mode: 0o600 });
  await writeFile(certPath + '.tmp', pems.cert, { mode: 0o644 });
  await rename(keyPath + '.tmp', keyPath);
  await rename(certPath + '.tmp', certPath);
  opts.log.warn({ event: 'tls.self_signed', cert: certPath }, `no tls.cert/tls.key configured: generated a self-signed certificate for ${opts.hostname} at ${certPath}; clients will not trust it`);
  return { cert: Buffer.from(pems.cert), key: Buffer.from(pems.private), origin: certPath };
}
