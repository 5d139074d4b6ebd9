/**
 * CPU of SELECT and FETCH (FLAGS ENVELOPE) measured inside one process (no root, no Dovecot): a test
 * server (core/testing) over a Maildir of BENCH_IMAP_MESSAGES messages, all still in new/; one cold
 * session (LOGIN, SELECT INBOX, UID FETCH 1:* (FLAGS ENVELOPE)) and BENCH_IMAP_REPEAT warm ones.
 * The client is a raw socket that only looks for the tagged reply, so nearly all the CPU is the
 * server's (process CPU, user + system, GC threads included). BENCH_PREWARM=1 fetches another
 * folder first (see below). BENCH_PROF=<dir> writes CPU profiles of the cold SELECT and FETCH and of the last warm ones there.
 *
 *   node --import tsx bench/imap/fetch-cpu.ts
 */
import fs from 'node:fs';
import { Session } from 'node:inspector/promises';
import net from 'node:net';
import path from 'node:path';
import { PLUGINS } from '../../core/imap/test-support.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser } from '../../test/helpers/mail.ts';
import { buildMaildir } from './corpus.ts';

const MESSAGES = Number(process.env.BENCH_IMAP_MESSAGES ?? 10_000);
const REPEAT = Number(process.env.BENCH_IMAP_REPEAT ?? 5);
const USER = 'alice@imap.test';
const PASS = 'alice password 1';
const WARM_USER = 'bob@imap.test';
const PREWARM = process.env.BENCH_PREWARM === '1';

const srv = await startTestServer({
  config: { plugins: PLUGINS, imap: { allowPlaintextAuth: true } },
  setup: async (dir) => {
    await addUser(dir, USER, PASS);
    await buildMaildir(path.join(dir, 'mail'), USER, MESSAGES);
    // BENCH_PREWARM=1: another user's 3,000-message folder is fetched first, so the cold figures are
    // not the first run of the code (JIT) — the part of "cold" that is this folder's files only.
    if (PREWARM) {
      await addUser(dir, WARM_USER, PASS);
      await buildMaildir(path.join(dir, 'mail'), WARM_USER, 3000);
    }
  },
});
const port = srv.port('imap');

/** One connection; `run(cmd)` sends a tagged command and resolves at its tagged reply (bytes seen). */
async function connect(): Promise<{ run: (cmd: string) => Promise<number>; close: () => void }> {
  const s = net.connect(port, '127.0.0.1');
  let tail = '';
  let bytes = 0;
  let waiting: { tag: string; resolve: (n: number) => void; reject: (e: Error) => void } | undefined;
  let greeted!: () => void;
  const greeting = new Promise<void>((r) => (greeted = r));
  s.on('data', (d: Buffer) => {
    bytes += d.length;
    tail = (tail + d.toString('latin1', Math.max(0, d.length - 200))).slice(-400);
    if (!waiting) {
      if (tail.includes('\r\n')) greeted();
      return;
    }
    const m = new RegExp(`(?:^|\\r\\n)${waiting.tag} (OK|NO|BAD)[^\\r]*\\r\\n$`).exec(tail);
    if (!m) return;
    const w = waiting;
    waiting = undefined;
    if (m[1] === 'OK') w.resolve(bytes);
    else w.reject(new Error(m[0]));
  });
  await greeting;
  let n = 0;
  return {
    run: (cmd) => new Promise((resolve, reject) => {
      const tag = `t${++n}`;
      tail = '';
      bytes = 0;
      waiting = { tag, resolve, reject };
      s.write(`${tag} ${cmd}\r\n`);
    }),
    close: () => s.destroy(),
  };
}

async function timed(label: string, fn: () => Promise<number>): Promise<void> {
  if (inspector) await inspector.post('Profiler.start');
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const bytes = await fn();
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  const cpu = (c.user + c.system) / 1000;
  if (inspector && profDir) {
    const { profile } = await inspector.post('Profiler.stop');
    fs.writeFileSync(path.join(profDir, `${label.replace(/ /g, '-')}.cpuprofile`), JSON.stringify(profile));
  }
  console.log(`${label.padEnd(22)} wall ${wall.toFixed(0).padStart(5)} ms  cpu ${cpu.toFixed(0).padStart(5)} ms (sys ${(c.system / 1000).toFixed(0).padStart(4)})  ${((cpu * 1000) / MESSAGES).toFixed(1).padStart(5)} µs/msg  ${bytes} bytes`);
}

const profDir = process.env.BENCH_PROF;
// One profile per command kind: the cold ones and the last warm ones (files named after the label).
const inspector = profDir ? new Session() : undefined;
inspector?.connect();
await inspector?.post('Profiler.enable');
await inspector?.post('Profiler.setSamplingInterval', { interval: 100 });

if (PREWARM) {
  const c = await connect();
  await c.run(`LOGIN "${WARM_USER}" "${PASS}"`);
  await timed('prewarm SELECT', () => c.run('SELECT INBOX'));
  await timed('prewarm FETCH', () => c.run('UID FETCH 1:* (FLAGS ENVELOPE)'));
  c.close();
}
try {
  console.log(`${MESSAGES} messages`);
  for (let i = 0; i <= REPEAT; i++) {
    const c = await connect();
    await c.run(`LOGIN "${USER}" "${PASS}"`);
    const kind = i === 0 ? 'cold' : 'warm';
    await timed(`${kind} SELECT`, () => c.run('SELECT INBOX'));
    await timed(`${kind} FETCH`, () => c.run('UID FETCH 1:* (FLAGS ENVELOPE)'));
    await c.run('LOGOUT').catch(() => 0);
    c.close();
  }
} finally {
  await srv.close();
}
