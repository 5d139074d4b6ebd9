import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { QueueIdFactory } from '../../core/queue/ids.ts';
import type { SpoolEnvelope } from '../../core/queue/envelope.ts';

/**
 * Writes a spool of deferred remote recipients, as a server leaves it after a wave of 4xx replies:
 * `--messages` messages × `--rcpts` recipients, each with its next attempt 1 to 4 h ahead and the
 * schedule hint file beside it. Usage: node --import tsx bench/queue/make-spool.ts --data DIR --messages 100000 --rcpts 10
 */
const { values } = parseArgs({ options: { data: { type: 'string' }, messages: { type: 'string', default: '100000' }, rcpts: { type: 'string', default: '10' } } });
if (!values.data) throw new Error('--data DIR is required');
const messages = Number(values.messages);
const rcpts = Number(values.rcpts);
const dir = path.join(values.data, 'queue');
await mkdir(dir, { recursive: true, mode: 0o700 });
const ids = new QueueIdFactory(0);
const body = Buffer.from(`Received: from client.test\r\nSubject: queued\r\nMessage-ID: <x@bench.test>\r\n\r\n${'a line of the body\r\n'.repeat(8)}`);
const now = Date.now();
const started = performance.now();
let next = 0;
async function writer(): Promise<void> {
  for (let i = next++; i < messages; i = next++) {
    const id = ids.next(now - 60_000 + (i % 60_000));
    const at = now + 3_600_000 + Math.floor(((i * 7919) % 10_800) * 1000);
    const env: SpoolEnvelope = {
      v: 1, id, receivedAt: now - 600_000, size: body.length,
      mailFrom: { address: `sender${i % 100}@bench.test`, args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
      client: { address: '127.0.0.1', listener: 'mx', secure: false }, headerEdits: [],
      recipients: Array.from({ length: rcpts }, (_, r) => ({
        address: `user${r}@dest${i % 1000}.test`, target: { kind: 'remote' as const, address: `user${r}@dest${i % 1000}.test` },
        state: 'pending' as const, attempts: 1, lastAttemptAt: now - 60_000, nextAttemptAt: at, lastError: '451 4.7.1 greylisted',
      })),
      hintAt: at,
    };
    await writeFile(path.join(dir, `${id}.msg`), body);
    await writeFile(path.join(dir, `${id}.env`), JSON.stringify(env));
    await writeFile(path.join(dir, `${id}.next-${at.toString(36)}`), '');
    if (i % 100_000 === 0 && i) console.error(`${i} messages written`);
  }
}
await Promise.all(Array.from({ length: 32 }, writer));
console.log(JSON.stringify({ messages, rcpts, recipients: messages * rcpts, writeSeconds: +((performance.now() - started) / 1000).toFixed(1) }));
