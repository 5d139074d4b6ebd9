/**
 * The Pochta side of the outbound benchmark, in its own process so its CPU and memory are its
 * own: the outbound plugin in a real Runtime (no scheduler: the engine is driven directly through
 * its REMOTE_DELIVERY provider), N spooled message files, every job handed over at once; the
 * engine's caps decide how many connections are open. Prints one JSON line with the numbers.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { REMOTE_DELIVERY, type RemoteJob } from '../../core/queue/remote.ts';
import { createWriteStream } from 'node:fs';
import { systemClock } from '../../core/clock.ts';
import { createResolver } from '../../core/dns.ts';
import { MemoryKv } from '../../core/kv/memory.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import { Runtime } from '../../core/runtime.ts';
import outbound from '../../plugins/outbound/index.ts';

const env = (k: string, d: number) => Number(process.env[k] ?? d);
const N = env('BENCH_MESSAGES', 2000);
const RCPTS = env('BENCH_RCPTS', 3);
const SIZE = env('BENCH_SIZE', 4096);
const CONC = env('BENCH_CONCURRENCY', 20);
const SINK_PORT = env('SINK_PORT', 0);
const WORK = process.env.BENCH_WORK ?? '/tmp';

async function main(): Promise<void> {
  const dir = path.join(WORK, 'pochta-spool');
  await mkdir(dir, { recursive: true });
  const body = Buffer.from(`From: bench@sender.test\r\nTo: r@bench.test\r\nSubject: outbound bench\r\nMessage-ID: <m@sender.test>\r\n\r\n${'x'.repeat(76)}\r\n`.padEnd(SIZE, 'y') + '\r\n');
  const jobs: RemoteJob[] = [];
  for (let i = 0; i < N; i++) {
    const file = path.join(dir, `m${i}.eml`);
    await writeFile(file, body);
    jobs.push({
      queueId: `B${i}`,
      mailFrom: { address: 'bench@sender.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
      recipients: Array.from({ length: RCPTS }, (_, r) => ({ address: `u${r}.${i}@d${i % 50}.bench.test` })),
      headerPrefix: Buffer.alloc(0), removeHeaders: [], body: { kind: 'file', path: file }, size: body.length, attempt: 1, receivedAt: Date.now(),
    });
  }
  // A real Runtime with the server's logger writing to a file (as a server would), not the test
  // harness's in-memory log.
  const logFile = createWriteStream(path.join(WORK, 'pochta.log'));
  const kv = new MemoryKv(systemClock);
  const runtime = new Runtime([{
    name: 'outbound', enabled: true, timeoutMs: 5000, origin: 'bench', definition: outbound,
    config: Object.freeze(outbound.config.parse({
      smarthost: { host: '127.0.0.1', port: SINK_PORT, tls: 'none' },
      concurrency: { total: CONC, perDestination: CONC },
      reuse: { maxMessages: 1000, idleMs: 5000 },
      mtaSts: { enabled: false },
    }) as Record<string, unknown>),
  }], {
    log: createLogger({ level: 'info', destination: logFile }), metrics: new Metrics(), clock: systemClock, kv,
    dns: createResolver(), hostname: 'pochta-obench.localdomain', dataDir: path.join(WORK, 'pochta-data'),
  });
  await runtime.start();
  const engine = runtime.services.get(REMOTE_DELIVERY);
  const ac = new AbortController();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const results = await Promise.all(jobs.map((j) => engine.deliver(j, ac.signal)));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const outcomes = results.flat().map((r) => r.outcome.kind);
  const delivered = outcomes.filter((k) => k === 'delivered').length;
  const firstFailure = results.flat().find((r) => r.outcome.kind !== 'delivered');
  await runtime.dispose();
  await kv.close();
  logFile.end();
  process.stdout.write(`${JSON.stringify({
    messages: N, recipients: outcomes.length, delivered, ms, cpuMs: (cpu.user + cpu.system) / 1000,
    maxRssKb: process.resourceUsage().maxRSS, ...(firstFailure ? { firstFailure } : {}),
  })}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
