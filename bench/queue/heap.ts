import { Schedule } from '../../core/queue/schedule.ts';

/**
 * Cost of picking the next due message and rescheduling it (popDue + set), on schedules of
 * growing size: O(log n) shows as a slow, logarithmic growth per operation.
 *   node --import tsx bench/queue/heap.ts
 */
const ops = 500_000;
for (const n of [10_000, 100_000, 1_000_000]) {
  const s = new Schedule();
  let x = 12_345;
  const rnd = () => (x = (x * 1_103_515_245 + 12_345) % 2 ** 31);
  for (let i = 0; i < n; i++) s.set(`id${String(i).padStart(17, '0')}`, rnd());
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) {
    const id = s.popDue(Infinity)!;
    s.set(id, rnd() + 2 ** 31);
  }
  const ns = ((performance.now() - t0) / ops) * 1e6;
  console.log(JSON.stringify({ n, nsPerPickAndReschedule: Math.round(ns) }));
}
