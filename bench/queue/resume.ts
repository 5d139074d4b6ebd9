import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../core/config/load.ts';
import { createLogger } from '../../core/log.ts';
import { PochtaServer } from '../../core/server.ts';

/**
 * Starts a whole server over an existing spool (bench/queue/make-spool.ts) and reports how long
 * the start took, how many messages were resumed and the process's RSS once it is ready (after a
 * full GC, and the peak during the start). Run with --expose-gc:
 *   node --expose-gc --import tsx bench/queue/resume.ts --data DIR
 */
const { values } = parseArgs({ options: { data: { type: 'string' } } });
if (!values.data) throw new Error('--data DIR is required');
const dataDir = path.resolve(values.data);
const loaded = await loadConfig({
  cwd: dataDir, env: {},
  tree: {
    hostname: 'bench.test', dataDir, log: { level: 'warn' },
    queue: { fsync: false },
    smtp: { listeners: { mx: { kind: 'mx', host: '127.0.0.1', port: 0 } } },
    pop3: { listeners: {} }, imap: { listeners: {} },
    plugins: {
      'relay-acl': { networks: ['127.0.0.1'] },
      'test-relay': { module: path.resolve('core/queue/testing/smtp-relay-plugin.ts'), port: 9 },
    },
  },
});
let peak = 0;
const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
const server = new PochtaServer({ loaded, log: createLogger({ level: 'warn' }) });
const t0 = performance.now();
await server.start();
const startMs = performance.now() - t0;
clearInterval(sampler);
peak = Math.max(peak, process.memoryUsage().rss);
const gc = (globalThis as { gc?: () => void }).gc;
gc?.();
await new Promise((r) => setTimeout(r, 200));
gc?.();
const mem = process.memoryUsage();
const stats = server.queue.stats();
// Picking the next due entry on the loaded schedule: the cost per pick (heap of the whole queue).
const picks = 100_000;
const t1 = performance.now();
for (let i = 0; i < picks; i++) server.queue.stats();
const pickUs = ((performance.now() - t1) / picks) * 1000;
console.log(JSON.stringify({
  scheduled: stats.scheduled, startSeconds: +(startMs / 1000).toFixed(2),
  rssMB: Math.round(mem.rss / 2 ** 20), heapUsedMB: Math.round(mem.heapUsed / 2 ** 20), peakRssMB: Math.round(peak / 2 ** 20),
  nextDueInMin: stats.nextDueAt ? Math.round((stats.nextDueAt - Date.now()) / 60_000) : null, peekUs: +pickUs.toFixed(3),
}));
await server.stop();
