/**
 * CPU per tap call of the hook runner (core/hook-runner.ts), the fixed cost every plugin pays on
 * every hook it taps: `node --import tsx bench/protection/hookload.ts [calls]`. One bail hook with
 * 12 taps (the full protection set adds about that many per message), synchronous and async
 * taps answering "no opinion", a call trace recording every timing as the SMTP session does.
 * A benchmark, not a test. `HOOK_RUNNER=<path>` measures another copy of the runner (before → after).
 */
import type { TapOwner, TraceEntry } from '../../core/hook-runner.ts';
import { createLogger } from '../../core/log.ts';
import { Metrics } from '../../core/metrics.ts';
import fs from 'node:fs';
import path from 'node:path';

const N = Number(process.argv[2] ?? 20_000);
const { VerdictHook } = (await import(process.env.HOOK_RUNNER ? path.resolve(process.env.HOOK_RUNNER) : '../../core/hook-runner.ts')) as typeof import('../../core/hook-runner.ts');
const TAPS = 12;
const log = createLogger({ level: 'info', destination: fs.createWriteStream('/dev/null') });
const env = { metrics: new Metrics() };
const spec = { name: 'bench.hook', doc: '', validate: () => undefined, onError: () => ({ kind: 'tempfail' as const }) };

function hookWith(kind: 'sync' | 'async') {
  const h = new VerdictHook<object, object, { kind: string }>(spec, env);
  for (let i = 0; i < TAPS; i++) {
    const owner: TapOwner = { name: `p${i}`, timeoutMs: 30_000, log, signal: new AbortController().signal };
    if (kind === 'sync') h.tap(owner, () => undefined);
    else h.tap(owner, async () => { await Promise.resolve(); return undefined; });
  }
  return h;
}

for (const kind of ['sync', 'async'] as const) {
  const h = hookWith(kind);
  const run = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const trace: TraceEntry[] = [];
      await h.call({}, {}, { log, record: (e) => trace.push(e) });
    }
  };
  await run(N / 4);
  const t0 = process.cpuUsage();
  await run(N);
  const d = process.cpuUsage(t0);
  console.log(`${kind.padEnd(5)} taps: ${((d.user + d.system) / N / TAPS).toFixed(2)} µs CPU per tap call (${N} calls × ${TAPS} taps)`);
}
