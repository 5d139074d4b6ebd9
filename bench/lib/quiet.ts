/** The quiet gate: other work on a shared machine skews a benchmark, so runs wait for calm. */
import { cpuTotals } from './proc.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Wait (at most `waitS`) until the machine's CPU busy share over 0.5 s is <= `pct`; returns the
 * last share. `onBusy` is told once, after the first busy sample.
 */
export async function waitQuiet(pct: number, waitS: number, onBusy?: (busyPct: number) => void): Promise<number> {
  const end = Date.now() + waitS * 1000;
  let busy = 0;
  for (let i = 0; i < 10_000; i++) {
    const a = cpuTotals();
    await sleep(500);
    const b = cpuTotals();
    busy = (100 * (b.busy - a.busy)) / Math.max(1, b.total - a.total);
    if (busy <= pct || Date.now() >= end) break;
    if (i === 0) onBusy?.(busy);
  }
  return busy;
}
