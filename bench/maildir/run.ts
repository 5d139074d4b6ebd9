// Maildir local-delivery throughput: N appends into ONE user's INBOX with C in flight, the way
// plugins/maildir/local-delivery.ts calls the store (header prefix + spool file, create: true).
//
// This is a BENCHMARK, not a test. From the repo root:
//     node --import tsx bench/maildir/run.ts
// Settings come from the environment (see bench/maildir/README.md). The run is bounded: no new append
// starts after BENCH_MAX_SECONDS (default 50 s); the rest is reported as not run. It works in a fresh
// temp dir on disk (tmpfs is refused: fsync would be free there), removed at the end.

import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MaildirStore } from '../../plugins/maildir/maildir-store.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const USER = 'bench@bench.test';
const SLICE = 1000;
const TMPFS_MAGIC = 0x01021994;

function envInt(name: string, dflt: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${JSON.stringify(raw)}`);
  return n;
}

const settings = {
  messages: envInt('BENCH_N', 5000),
  concurrency: envInt('BENCH_C', 16),
  size: envInt('BENCH_SIZE', 4096, 64),
  maxSeconds: envInt('BENCH_MAX_SECONDS', 50),
  label: process.env.BENCH_LABEL ?? '',
  results: path.resolve(REPO, process.env.BENCH_RESULTS ?? 'bench/RESULTS.md'),
  write: process.env.BENCH_NO_WRITE !== '1',
  keep: process.env.BENCH_KEEP === '1',
  quietPct: envInt('BENCH_QUIET_PCT', 15, 0),
  quietWaitS: envInt('BENCH_QUIET_WAIT', 10, 0),
  floor: process.env.BENCH_FLOOR !== '0',
};
if (settings.messages > 200_000) throw new Error('BENCH_N is capped at 200000');
if (settings.concurrency > 1000) throw new Error('BENCH_C is capped at 1000');

function log(msg: string): void {
  process.stderr.write(`[bench maildir] ${msg}\n`);
}

/** A spooled message body like the queue keeps it: header lines, blank line, CRLF body, `size` bytes in all. */
function spoolBody(size: number): Buffer {
  const head = 'From: sender@bench.test\r\nTo: bench@bench.test\r\nSubject: maildir bench\r\nMessage-ID: <bench@bench.test>\r\n\r\n';
  const line = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789\r\n';
  let body = head;
  while (body.length < size) body += line;
  return Buffer.from(body.slice(0, size - 2) + '\r\n');
}

/** Machine CPU from /proc/stat (all cores, without irq/softirq), in clock ticks; undefined off Linux. */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9).map(Number);
    const [user, nice, system, idle, iowait, irq, softirq, steal] = f;
    return { busy: user + nice + system + steal, total: user + nice + system + idle + iowait + irq + softirq + steal };
  } catch {
    return undefined;
  }
}

/** Busy share of the machine's CPU over `ms`, in %. */
async function busyPct(ms: number): Promise<number> {
  const a = machineTicks();
  await new Promise((r) => setTimeout(r, ms));
  const b = machineTicks();
  return a && b && b.total > a.total ? (100 * (b.busy - a.busy)) / (b.total - a.total) : 0;
}

/** Waits (at most quietWaitS) for other work on a shared machine to calm down; returns the last busy share. */
async function quietGate(): Promise<number> {
  const end = Date.now() + settings.quietWaitS * 1000;
  for (let i = 0; ; i++) {
    const pct = await busyPct(500);
    if (pct <= settings.quietPct || Date.now() >= end) return pct;
    if (i === 0) log(`machine busy (${pct.toFixed(0)}% CPU), waiting up to ${settings.quietWaitS} s`);
  }
}

/**
 * The reference: the same number of files written the Maildir way with nothing else (tmp/, write, fsync,
 * close, rename into new/, a shared fsync of new/), same concurrency, in a fresh directory. What the
 * store adds on top is spool reading, UID registration and bookkeeping. Returns completion times (ms).
 */
async function rawWrites(dir: string, deadline: number): Promise<number[]> {
  await fsp.mkdir(path.join(dir, 'tmp'), { recursive: true });
  await fsp.mkdir(path.join(dir, 'new'));
  const data = spoolBody(settings.size);
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const syncNew = (): Promise<void> => {
    if (!running) {
      running = (async () => {
        const d = await fsp.open(path.join(dir, 'new'), 'r');
        try {
          await d.sync();
        } finally {
          await d.close();
        }
      })().finally(() => (running = undefined));
      return running;
    }
    next ??= running.then(() => {
      next = undefined;
      return syncNew();
    });
    return next;
  };
  const done: number[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: settings.concurrency }, async () => {
      while (started < settings.messages && Date.now() < deadline) {
        const name = `raw${started++}`;
        const tmp = path.join(dir, 'tmp', name);
        const out = await fsp.open(tmp, 'wx', 0o600);
        try {
          await out.write(data);
          await out.sync();
        } finally {
          await out.close();
        }
        await fsp.rename(tmp, path.join(dir, 'new', name));
        await syncNew();
        done.push(performance.now() - t0);
      }
    }),
  );
  return done;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function machine(work: string): string[] {
  const cpus = os.cpus();
  const sh = (cmd: string, args: string[]): string => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8', timeout: 5000 }).trim();
    } catch {
      return 'unknown';
    }
  };
  const disk = sh('df', ['-T', work]).split('\n').at(-1)?.split(/\s+/).slice(0, 2).join(' ') ?? 'unknown';
  return [
    `- CPU: ${cpus.length} × ${cpus[0]?.model ?? 'unknown'} (nproc ${os.availableParallelism()})`,
    `- memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB; kernel ${os.release()}; Node ${process.version}`,
    `- Maildir on: ${disk} (${work})`,
    `- libuv threads: UV_THREADPOOL_SIZE=${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`,
    `- load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`,
  ];
}

async function main(): Promise<void> {
  const work = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-maildir-bench-'));
  try {
    if ((await fsp.statfs(work)).type === TMPFS_MAGIC) throw new Error(`${work} is on tmpfs: fsync would be free; set TMPDIR to a disk`);
    const machineLines = machine(work);
    const root = path.join(work, 'mail');
    const spool = path.join(work, 'spool.eml');
    // The header prefix local delivery adds in front of the spool file (Return-Path, Delivered-To).
    const prefix = Buffer.from(`Return-Path: <sender@bench.test>\r\nDelivered-To: ${USER}\r\n`);
    await fsp.writeFile(spool, spoolBody(settings.size - prefix.length));

    const store = new MaildirStore({ root, hostname: 'bench.host' });
    await store.listFolders(USER); // creates the mailbox, like the first delivery would
    await store.status(USER, 'INBOX'); // loads the folder state

    const busyBefore = await quietGate();
    const ticks0 = machineTicks();
    const deadline = Date.now() + settings.maxSeconds * 1000;
    const done: number[] = []; // completion times (ms since start), in completion order
    const latencies: number[] = [];
    const uids: number[] = [];
    let started = 0;
    let timedOut = false;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const worker = async (): Promise<void> => {
      while (started < settings.messages) {
        if (Date.now() > deadline) {
          timedOut = true;
          return;
        }
        started++;
        const s = performance.now();
        const result = await store.append(USER, 'INBOX', { prefix, path: spool }, { create: true });
        const e = performance.now();
        latencies.push(e - s);
        done.push(e - t0);
        uids.push(result.uid);
      }
    };
    await Promise.all(Array.from({ length: settings.concurrency }, worker));
    const elapsed = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const ticks1 = machineTicks();
    // CPU the rest of the machine used meanwhile, in % of all cores (well above 0: a pessimistic row).
    const clk = 100; // USER_HZ on Linux
    const otherPct =
      ticks0 && ticks1 && ticks1.total > ticks0.total
        ? Math.max(0, (100 * (ticks1.busy - ticks0.busy - ((cpu.user + cpu.system) / 1e6) * clk)) / (ticks1.total - ticks0.total))
        : NaN;
    const delivered = done.length;
    log(`${delivered} appends in ${elapsed.toFixed(2)} s`);

    // Correctness: distinct UIDs 1..n, one file each.
    const sortedUids = [...uids].sort((a, b) => a - b);
    const uidsOk = sortedUids.every((uid, i) => uid === i + 1);
    const inbox = path.join(root, 'bench.test', 'bench');
    const files = (await fsp.readdir(path.join(inbox, 'new'))).length + (await fsp.readdir(path.join(inbox, 'cur'))).length;

    // Same store, after the burst: STATUS (a refresh that sees new/ changed).
    let s = performance.now();
    const status = await store.status(USER, 'INBOX');
    const statusMs = performance.now() - s;
    await store.close();
    // A new store instance (a restart): EXAMINE reads the index and lists new/ and cur/.
    const again = new MaildirStore({ root, hostname: 'bench.host' });
    s = performance.now();
    const view = await again.open(USER, 'INBOX', { readOnly: true });
    const reopenMs = performance.now() - s;
    const reopenCount = view.uids().length;
    const reopenSame = reopenCount === delivered && view.uids().every((uid, i) => uid === sortedUids[i]);
    await view.close();
    await again.close();

    const raw = settings.floor ? await rawWrites(path.join(work, 'raw'), Date.now() + 20_000) : [];
    const rawSecs = (raw.at(-1) ?? NaN) / 1000;
    const perMsg = (us: number): string => (us / 1000 / Math.max(1, delivered)).toFixed(3);
    const sortedLat = [...latencies].sort((a, b) => a - b);
    const rate = (times: readonly number[], from: number, to: number): number => {
      const secs = (times[to - 1] - (from === 0 ? 0 : times[from - 1])) / 1000;
      return Math.round((to - from) / secs);
    };
    const slices: string[] = [];
    for (let from = 0; from < delivered; from += SLICE) {
      const to = Math.min(delivered, from + SLICE);
      const secs = (done[to - 1] - (from === 0 ? 0 : done[from - 1])) / 1000;
      const reference = settings.floor ? ` ${to <= raw.length ? rate(raw, from, to) : 'n/a'} |` : '';
      slices.push(`| ${from + 1}–${to} | ${secs.toFixed(2)} | ${rate(done, from, to)} |${reference}`);
    }
    const command = [
      `BENCH_N=${settings.messages}`,
      `BENCH_C=${settings.concurrency}`,
      `BENCH_SIZE=${settings.size}`,
      settings.label && `BENCH_LABEL=${JSON.stringify(settings.label)}`,
      'node --import tsx bench/maildir/run.ts',
    ]
      .filter(Boolean)
      .join(' ');
    const section = [
      `## Maildir delivery: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}${settings.label ? ` — ${settings.label}` : ''}`,
      '',
      `Command: \`${command}\` (git ${gitRev()})`,
      '',
      ...machineLines,
      '',
      `${settings.messages} × ${settings.size} B appends (header prefix + spool file, as local delivery does, fsync on), ` +
        `${settings.concurrency} in flight, into one INBOX of a fresh Maildir.` +
        (timedOut ? ` **Stopped at the ${settings.maxSeconds} s cap: ${settings.messages - delivered} not run.**` : ''),
      '',
      '| metric | value |',
      '|---|---:|',
      `| delivered | ${delivered} |`,
      `| wall time | ${elapsed.toFixed(2)} s |`,
      `| **msgs/s overall** | **${Math.round(delivered / elapsed)}** |`,
      `| append latency p50 / p99 / max | ${percentile(sortedLat, 50).toFixed(1)} / ${percentile(sortedLat, 99).toFixed(1)} / ${(sortedLat.at(-1) ?? NaN).toFixed(1)} ms |`,
      `| CPU per message (this process: user + sys) | ${perMsg(cpu.user)} + ${perMsg(cpu.system)} = ${perMsg(cpu.user + cpu.system)} ms |`,
      `| other CPU on the machine, before / during | ${busyBefore.toFixed(0)} % / ${otherPct.toFixed(0)} % of all cores |`,
      `| UIDs 1..n distinct, files on disk | ${uidsOk ? 'yes' : '**NO**'}, ${files} |`,
      `| STATUS right after (same store; messages) | ${statusMs.toFixed(1)} ms (${status.messages}) |`,
      `| reopen: new store, EXAMINE INBOX | ${reopenMs.toFixed(1)} ms (${reopenCount} messages, same UIDs: ${reopenSame ? 'yes' : '**NO**'}) |`,
      ...(settings.floor
        ? [`| reference: raw Maildir writes, no store (${raw.length} files) | ${Math.round(raw.length / rawSecs)} msgs/s |`]
        : []),
      '',
      settings.floor
        ? '| messages (completion order) | seconds | msgs/s | raw writes msgs/s (reference) |\n|---|---:|---:|---:|'
        : '| messages (completion order) | seconds | msgs/s |\n|---|---:|---:|',
      ...slices,
      '',
      ...(settings.floor
        ? [
            'Reference column: the same number of files written with nothing but tmp/ → fsync → rename → shared fsync of new/ ' +
              '(same concurrency, fresh directory, run right after): roughly the ceiling of this disk at that time.',
            '',
          ]
        : []),
    ].join('\n');
    process.stdout.write(section + '\n');
    if (settings.write) {
      await fsp.appendFile(settings.results, '\n' + section);
      log(`appended to ${path.relative(REPO, settings.results)}`);
    }
    if (!uidsOk || !reopenSame || files !== delivered) process.exitCode = 1;
  } finally {
    if (settings.keep) log(`kept ${work}`);
    else await fsp.rm(work, { recursive: true, force: true, maxRetries: 3 });
  }
}

function gitRev(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'plugins/maildir'], { cwd: REPO, encoding: 'utf8' }).trim();
    return dirty ? `${rev} + uncommitted plugins/maildir changes` : rev;
  } catch {
    return 'unknown';
  }
}

// The server runs with 16 libuv threads (bin/pochta.js: fsyncs block pool threads). The pool size is
// read when the pool starts, which may be before this module runs, so re-run under it when unset.
if (process.env.UV_THREADPOOL_SIZE === undefined) {
  const child = spawnSync(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, UV_THREADPOOL_SIZE: '16' },
    timeout: (settings.maxSeconds + 90) * 1000,
  });
  process.exit(child.status ?? 1);
}

// A hard stop in case something hangs: the run is meant to be bounded.
const guard = setTimeout(() => {
  log('hard time limit reached, exiting');
  process.exit(2);
}, (settings.maxSeconds + 60) * 1000);
guard.unref();

main().catch((err: unknown) => {
  log(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exitCode = 1;
});
