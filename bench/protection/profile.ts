// Reads a V8 .cpuprofile (node --cpu-prof) and summarises where the time went: top functions
// by self time, and self/inclusive time per code area (a plugin, a core folder, an npm package).
import fs from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

/** Code area of a script URL: plugins/<name>, core/<dir>, npm:<package>, node:<builtin>, or a V8 pseudo-frame. */
export function area(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return `npm:${nm[1]}`;
  const own = /\/(plugins\/[^/]+|core\/[^/]+)/.exec(url);
  if (own) return (own[1] ?? '').replace(/\.ts$/, '');
  if (url.startsWith('node:')) return 'node:internal';
  return url.replace(/^file:\/\/.*\//, '');
}

export interface ProfileSummary {
  totalMs: number;
  sampledMs: number;
  topSelf: Array<{ name: string; ms: number; pct: number }>;
  areas: Array<{ area: string; selfMs: number; inclMs: number; selfPct: number; inclPct: number }>;
}

/**
 * skipMs: leave out the first skipMs of the profile (process start-up: module loading through
 * tsx, which is not per-message cost). Needs the samples/timeDeltas arrays V8 writes.
 */
export function summarise(file: string, top = 20, skipMs = 0): ProfileSummary {
  const p = JSON.parse(fs.readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const counted = new Map<number, number>();
  let t = 0;
  let firstUs = Infinity;
  let lastUs = 0;
  const samples = p.samples ?? [];
  for (let i = 0; i < samples.length; i++) {
    t += p.timeDeltas?.[i] ?? 0;
    if (t < skipMs * 1000) continue;
    firstUs = Math.min(firstUs, t);
    lastUs = t;
    const id = samples[i] ?? -1;
    counted.set(id, (counted.get(id) ?? 0) + 1);
  }
  for (const n of p.nodes) n.hitCount = counted.get(n.id) ?? 0;
  const hits = p.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0);
  const totalMs = hits > 0 ? (lastUs - firstUs) / 1000 : 0;
  const msPerHit = hits > 0 ? totalMs / hits : 0;
  const self = new Map<string, number>();
  const areaSelf = new Map<string, number>();
  const areaIncl = new Map<string, number>();
  let idle = 0;
  for (const n of p.nodes) {
    const h = n.hitCount ?? 0;
    if (h === 0) continue;
    const cf = n.callFrame;
    if (cf.functionName === '(idle)') {
      idle += h;
      continue;
    }
    const short = cf.url.replace(/^file:\/\/.*?\/(node_modules|plugins|core)\//, '$1/');
    const key = `${cf.functionName || '(anonymous)'} ${short}${short ? `:${cf.lineNumber + 1}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + h);
    const a = area(cf.url, cf.functionName);
    areaSelf.set(a, (areaSelf.get(a) ?? 0) + h);
    // inclusive: every area on this node's stack (each once)
    const seen = new Set<string>();
    let id: number | undefined = n.id;
    for (let d = 0; id !== undefined && d < 2000; d++) {
      const node = byId.get(id);
      if (!node) break;
      seen.add(area(node.callFrame.url, node.callFrame.functionName));
      id = parent.get(id);
    }
    for (const s of seen) areaIncl.set(s, (areaIncl.get(s) ?? 0) + h);
  }
  const busy = hits - idle;
  const pct = (h: number): number => (busy > 0 ? (100 * h) / busy : 0);
  return {
    totalMs,
    sampledMs: busy * msPerHit,
    topSelf: [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
      .map(([name, h]) => ({ name, ms: h * msPerHit, pct: pct(h) })),
    areas: [...areaSelf.keys()].concat([...areaIncl.keys()]).filter((v, i, a) => a.indexOf(v) === i)
      .filter((a) => a !== '(root)')
      .map((a) => ({ area: a, selfMs: (areaSelf.get(a) ?? 0) * msPerHit, inclMs: (areaIncl.get(a) ?? 0) * msPerHit,
        selfPct: pct(areaSelf.get(a) ?? 0), inclPct: pct(areaIncl.get(a) ?? 0) }))
      .sort((a, b) => b.inclMs - a.inclMs),
  };
}
