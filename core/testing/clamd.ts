import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDaemon } from './daemon.ts';

/**
 * The EICAR anti-virus test file (68 bytes), assembled at run time so that no file in the
 * repository is itself the test string (scanners on developer machines would flag it).
 */
export function eicar(): Buffer {
  const parts = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS', '-TEST-FILE!$H+H*'];
  return Buffer.from(parts.join(''), 'latin1');
}

/** Names clamd reports for the test signatures (it adds `.UNOFFICIAL` to non-official databases). */
export const TEST_SIGNATURES = { hdb: 'Pochta.Test.EICAR.HDB', ndb: 'Pochta.Test.EICAR.NDB' } as const;

export interface TestClamd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The unix socket clamd also listens on. */
  readonly socket: string;
  /** Stop clamd (SIGTERM, wait for exit) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A throw-away clamd on a free loopback port (and a unix socket) that knows only two test
 * signatures: an MD5 hash signature of the exact EICAR file (.hdb) and a body signature of its
 * marker text (.ndb), which also finds it inside a base64 MIME attachment, since clamd decodes
 * mail itself. No official database is needed; it starts in well under a second.
 */
export async function startClamd(opts: { streamMaxLength?: string } = {}): Promise<TestClamd> {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-clamd-'));
  const db = path.join(dir, 'db');
  await mkdir(db);
  const file = eicar();
  const md5 = createHash('md5').update(file).digest('hex');
  await writeFile(path.join(db, 'test.hdb'), `${md5}:${file.length}:${TEST_SIGNATURES.hdb}\n`);
  const marker = Buffer.from('EICAR-STANDARD-ANTIVIRUS-TEST-FILE', 'latin1').toString('hex');
  await writeFile(path.join(db, 'test.ndb'), `${TEST_SIGNATURES.ndb}:0:*:${marker}\n`);
  const socket = path.join(dir, 'clamd.sock');
  const confPath = path.join(dir, 'clamd.conf');
  const daemon = await startDaemon({
    name: 'clamd',
    command: 'clamd',
    dir,
    async args(port) {
      const conf = [
        `DatabaseDirectory ${db}`,
        `TCPSocket ${port}`,
        'TCPAddr 127.0.0.1',
        `LocalSocket ${socket}`,
        `TemporaryDirectory ${dir}`,
        'Foreground yes',
        ...(opts.streamMaxLength ? [`StreamMaxLength ${opts.streamMaxLength}`] : []),
      ].join('\n') + '\n';
      await writeFile(confPath, conf);
      return ['--config-file', confPath];
    },
    ping: { send: 'zPING\0', expect: 'PONG' },
    readyMs: 20_000,
    portTaken: (out) => /already in use|bind/i.test(out),
    stopGraceMs: 5000,
    killOnExit: true,
  });
  return { host: '127.0.0.1', port: daemon.port, socket, stop: () => daemon.stop() };
}
