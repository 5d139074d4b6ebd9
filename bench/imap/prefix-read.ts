// In-process micro measure of the cold FETCH ENVELOPE path (no root, no Dovecot):
//   node --import tsx bench/imap/prefix-read.ts        (BENCH_IMAP_MESSAGES, default 3000)
// Builds a Maildir of the bench corpus, then, on a fresh store each time:
//   1. SELECT: store.open() of the folder with every message still in new/ (the new/ → cur/ moves);
//   2. reading the first 16 KiB of every file: async open/read/close through the libuv pool
//      (16 in flight) vs synchronous in bounded slices (plugins/maildir/prefix-reader.ts);
//   3. the message layer: full MIME parse of every message (cache.get) vs header-only (cache.head);
//   4. renaming N files new/ → cur/ (what SELECT's \Recent claim does): one awaited fs.promises.rename
//      after the other, 16 in flight, or synchronous in bounded slices (what folder-state.ts claimRecent does now).
// Prints CPU and wall time per message and the longest event-loop stall.
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { MaildirStore } from '../../plugins/maildir/maildir-store.ts';
import { nodeFs } from '../../plugins/maildir/fs-port.ts';
import { StructureCache } from '../../core/imap/message/index.ts';
import { buildMaildir } from './corpus.ts';

const N = Number(process.env.BENCH_IMAP_MESSAGES ?? 3000);
const USER = 'bench@bench.test';

async function measure(label: string, fn: () => Promise<void>): Promise<void> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  h.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  h.disable();
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(`${label.padEnd(58)} wall ${wall.toFixed(0).padStart(6)} ms  cpu ${cpuMs.toFixed(0).padStart(6)} ms  ${((cpuMs * 1000) / N).toFixed(1).padStart(6)} µs/msg  max stall ${(h.max / 1e6).toFixed(1)} ms`);
}

async function main(): Promise<void> {
  const root = await fsp.mkdtemp(path.join(process.env.BENCH_TMPDIR ?? os.tmpdir(), 'pochta-prefix-read-'));
  try {
    await buildMaildir(root, USER, N);
    const store = () => new MaildirStore({ root, hostname: 'bench.test' });
    console.log(`${N} messages in ${root}`);

    let s = store();
    await measure('SELECT (open, new/ -> cur/ moves)', async () => {
      await (await s.open(USER, 'INBOX')).close();
    });
    await s.close();

    s = store();
    const view = await s.open(USER, 'INBOX');
    const files = view.uids().map((u) => ({ u }));
    const paths: string[] = [];
    await view.readPrefixes?.(files.map((f) => f.u), 1, () => undefined); // warm the page cache
    for (const sub of ['cur', 'new']) {
      const dir = path.join(root, 'bench.test', 'bench', sub);
      for (const f of await fsp.readdir(dir)) paths.push(path.join(dir, f));
    }
    for (let round = 0; round < 2; round++) {
      await measure(`read 16 KiB heads: async pool, 16 in flight (round ${round + 1})`, async () => {
        let next = 0;
        const worker = async () => {
          while (next < paths.length) await nodeFs.readRange(paths[next++] ?? '', 0, 16 * 1024);
        };
        await Promise.all(Array.from({ length: 16 }, worker));
      });
      await measure(`read 16 KiB heads: sync slices (round ${round + 1})`, async () => {
        await view.readPrefixes?.(view.uids(), 16 * 1024, () => undefined);
      });
    }
    for (let round = 0; round < 2; round++) {
      await measure(`message layer: full parse, cache.get (round ${round + 1})`, async () => {
        const cache = new StructureCache();
        for (const u of view.uids()) await cache.get(view, u);
      });
      await measure(`message layer: header only, cache.head (round ${round + 1})`, async () => {
        const cache = new StructureCache();
        for (const u of view.uids()) await cache.head(view, u);
      });
    }
    await view.close();
    await s.close();

    const renameDir = path.join(root, 'rename');
    const setup = async (): Promise<string[]> => {
      await fsp.rm(renameDir, { recursive: true, force: true });
      await fsp.mkdir(path.join(renameDir, 'new'), { recursive: true });
      await fsp.mkdir(path.join(renameDir, 'cur'), { recursive: true });
      const names = Array.from({ length: N }, (_, i) => `1700000000.M${i}P1.bench.test,S=4000`);
      for (const n of names) await fsp.writeFile(path.join(renameDir, 'new', n), 'x');
      return names;
    };
    const from = (n: string): string => path.join(renameDir, 'new', n);
    const to = (n: string): string => path.join(renameDir, 'cur', `${n}:2,`);
    let names = await setup();
    await measure('rename new/ -> cur/: sequential awaited (now)', async () => {
      for (const n of names) await fsp.rename(from(n), to(n));
    });
    names = await setup();
    await measure('rename new/ -> cur/: 16 in flight', async () => {
      let next = 0;
      const worker = async () => {
        while (next < names.length) {
          const n = names[next++] ?? '';
          await fsp.rename(from(n), to(n));
        }
      };
      await Promise.all(Array.from({ length: 16 }, worker));
    });
    names = await setup();
    await measure('rename new/ -> cur/: sync, slices of 64 + yield', async () => {
      for (let i = 0; i < names.length; i += 64) {
        for (const n of names.slice(i, i + 64)) fs.renameSync(from(n), to(n));
        await new Promise((r) => setImmediate(r));
      }
    });
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }
}

await main();
