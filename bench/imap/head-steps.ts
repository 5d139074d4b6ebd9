/**
 * CPU per message of each step of a cold FETCH (FLAGS ENVELOPE), in process (no root, no Dovecot,
 * no sockets): reading the first 16 KiB of every file (the store's readPrefixes), the header-only
 * parse, the ENVELOPE text and bytes, the summary-file line, and the whole StructureCache.head path
 * as `fetchLines` drives it (bookkeeping, retention, GC). Process CPU, best of BENCH_ROUNDS (5):
 * the machine is shared, and the best round is the one least disturbed.
 *
 *   node --import tsx bench/imap/head-steps.ts      (BENCH_IMAP_MESSAGES, default 10,000; BENCH_TMPDIR)
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { envelopeTextOf } from '../../core/imap/message/envelope.ts';
import { headFromPrefix } from '../../core/imap/message/head.ts';
import { envelopeBytes, StructureCache } from '../../core/imap/message/index.ts';
import { MaildirStore } from '../../plugins/maildir/maildir-store.ts';
import { buildMaildir } from './corpus.ts';

const N = Number(process.env.BENCH_IMAP_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const USER = 'bench@bench.test';

async function best(label: string, run: () => Promise<void>): Promise<void> {
  let min = Infinity;
  let sys = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    await run();
    const c = process.cpuUsage(c0);
    if (c.user + c.system < min) {
      min = c.user + c.system;
      sys = c.system;
    }
  }
  console.log(`${label.padEnd(44)} ${(min / N).toFixed(1).padStart(6)} µs/msg (sys ${(sys / N).toFixed(1)})`);
}

const root = await fsp.mkdtemp(path.join(process.env.BENCH_TMPDIR ?? os.tmpdir(), 'pochta-head-steps-'));
try {
  await buildMaildir(root, USER, N);
  const store = new MaildirStore({ root, hostname: 'bench.test' });
  const view = await store.open(USER, 'INBOX');
  const uids = view.uids();
  const sizes = new Map(uids.map((u) => [u, view.get(u)?.size ?? 0]));
  const size = (u: number): number => sizes.get(u) ?? 0;
  const step = (label: string, each: (u: number, b: Buffer) => void): Promise<void> =>
    best(label, () => view.readPrefixes?.(uids, 16 * 1024, (u, b) => b && each(u, b)) ?? Promise.resolve());
  await step('read 16 KiB heads', () => undefined);
  await step('+ header-only parse', (u, b) => void headFromPrefix(b, b.length, size(u)));
  await step('+ ENVELOPE text', (u, b) => void envelopeTextOf(headFromPrefix(b, b.length, size(u))?.fields ?? []));
  await step('+ ENVELOPE bytes', (u, b) => void Buffer.from(envelopeTextOf(headFromPrefix(b, b.length, size(u))?.fields ?? [])));
  await step('+ summary line (JSON)', (u, b) => {
    const h = headFromPrefix(b, b.length, size(u));
    if (!h) return;
    void Buffer.from(envelopeTextOf(h.fields));
    void JSON.stringify({ u, s: h.size, h: h.bodyStart, f: h.fields });
  });
  await best('StructureCache.head + envelopeBytes (fetchLines)', async () => {
    const cache = new StructureCache();
    for (const u of uids) envelopeBytes(cache.peekHead(view, u) ?? (await cache.head(view, u)));
  });
  await view.close();
  await store.close();
} finally {
  await fsp.rm(root, { recursive: true, force: true });
}
