// /proc accounting for benchmarks: CPU ticks and memory of a process tree, machine CPU.
// Used by every bench: utime+stime+cutime+cstime of every live process in the tree, so reaped
// children are counted in their parent.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
const PAGE = Number(execFileSync('getconf', ['PAGESIZE']).toString().trim()) || 4096;

export interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime+stime+cutime+cstime, in clock ticks. */
  ticks: number;
  /** stime+cstime: the part spent in the kernel (syscalls: socket writes, fsync, rename…). */
  sysTicks: number;
}

export function readStat(pid: number | 'self'): ProcStat | undefined {
  let s: string;
  try {
    s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const open = s.indexOf('(');
  const close = s.lastIndexOf(')'); // comm may contain spaces and parentheses
  const f = s.slice(close + 2).split(' '); // f[0] is field 3 (state)
  const num = (field: number): number => Number(f[field - 3]);
  return {
    pid: Number(s.slice(0, s.indexOf(' '))),
    ppid: num(4),
    comm: s.slice(open + 1, close),
    ticks: num(14) + num(15) + num(16) + num(17),
    sysTicks: num(15) + num(17),
  };
}

export function allStats(): ProcStat[] {
  const out: ProcStat[] = [];
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const st = readStat(Number(e));
    if (st) out.push(st);
  }
  return out;
}

/** The root process and all its live descendants (bounded). */
export function tree(root: number, stats = allStats()): ProcStat[] {
  const kids = new Map<number, ProcStat[]>();
  for (const s of stats) {
    const l = kids.get(s.ppid);
    if (l) l.push(s);
    else kids.set(s.ppid, [s]);
  }
  const rootStat = stats.find((s) => s.pid === root);
  if (!rootStat) return [];
  const out: ProcStat[] = [];
  const stack = [rootStat];
  while (stack.length > 0 && out.length < 10_000) {
    const s = stack.pop()!;
    out.push(s);
    stack.push(...(kids.get(s.pid) ?? []));
  }
  return out;
}

export const treeTicks = (root: number): number => tree(root).reduce((a, s) => a + s.ticks, 0);
export const treeSysTicks = (root: number): number => tree(root).reduce((a, s) => a + s.sysTicks, 0);

export function rssBytes(pid: number): number {
  try {
    return Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * PAGE;
  } catch {
    return 0;
  }
}

/** Proportional set size (shared pages split between sharers), from smaps_rollup. */
export function pssBytes(pid: number): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Whole-machine busy and total ticks from /proc/stat (irq/softirq left out of busy). */
export function cpuTotals(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const irq = (v[5] ?? 0) + (v[6] ?? 0);
  return { busy: total - idle - irq, total };
}

/** Samples the peak Σ RSS of a process tree every periodMs until stop(). */
export class RssSampler {
  peak = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly root: number,
    private readonly periodMs = 100,
  ) {}
  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.periodMs);
  }
  private sample(): void {
    let rss = 0;
    for (const p of tree(this.root)) rss += rssBytes(p.pid);
    this.peak = Math.max(this.peak, rss);
  }
  stop(): number {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return this.peak;
  }
}
