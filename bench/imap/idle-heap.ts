/**
 * Memory per IDLE session measured inside the server process, after forced GCs (the RSS delta that
 * run.ts reports from outside is dominated by garbage collection in a 200+ MB process). A test server
 * (core/testing) over a Maildir of BENCH_IMAP_MESSAGES messages, BENCH_IMAP_IDLE sessions each
 * LOGIN, SELECT INBOX, IDLE. The client sockets live in the same process, so the figure includes
 * their few KB too (an upper bound for the server's share).
 *
 *   node --expose-gc --import tsx bench/imap/idle-heap.ts
 */
import net from 'node:net';
import path from 'node:path';
import { PLUGINS } from '../../core/imap/test-support.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser } from '../../test/helpers/mail.ts';
import { buildMaildir } from './corpus.ts';

const MESSAGES = Number(process.env.BENCH_IMAP_MESSAGES ?? 10_000);
const SESSIONS = Number(process.env.BENCH_IMAP_IDLE ?? 1000);
const USER = 'alice@imap.test';
const PASS = 'alice password 1';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const settle = async () => {
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
};

const srv = await startTestServer({
  config: { plugins: PLUGINS, imap: { allowPlaintextAuth: true, maxConnections: SESSIONS + 50 } },
  setup: async (dir) => {
    await addUser(dir, USER, PASS);
    await buildMaildir(path.join(dir, 'mail'), USER, MESSAGES);
  },
});
const port = srv.port('imap');

/** LOGIN, SELECT INBOX, IDLE; resolves at the continuation. Bounded by the harness's timeouts. */
function session(): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = '';
    let step = 0;
    const timer = setTimeout(() => reject(new Error('session setup timed out')), 60_000);
    s.on('error', reject);
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      if (step === 0 && buf.includes('\r\n')) {
        step = 1;
        buf = '';
        s.write(`a LOGIN "${USER}" "${PASS}"\r\n`);
      } else if (step === 1 && /(^|\r\n)a OK/.test(buf)) {
        step = 2;
        buf = '';
        s.write('b SELECT INBOX\r\n');
      } else if (/(^|\r\n)[ab] (NO|BAD)/.test(buf)) {
        clearTimeout(timer);
        reject(new Error(buf));
      } else if (step === 2 && /(^|\r\n)b OK/.test(buf)) {
        step = 3;
        buf = '';
        s.write('c IDLE\r\n');
      } else if (step === 3 && buf.includes('+ ')) {
        step = 4;
        clearTimeout(timer);
        resolve(s);
      }
    });
  });
}

const socks: net.Socket[] = [];
try {
  socks.push(await session()); // warms the code paths and the folder state
  await settle();
  const m0 = process.memoryUsage();
  for (let i = 0; i < SESSIONS; i += 50) socks.push(...(await Promise.all(Array.from({ length: Math.min(50, SESSIONS - i) }, session))));
  await settle();
  const m1 = process.memoryUsage();
  const kb = (a: number, b: number) => ((b - a) / SESSIONS / 1024).toFixed(1);
  console.log(`${SESSIONS} IDLE sessions, ${MESSAGES}-message INBOX: heapUsed ${kb(m0.heapUsed, m1.heapUsed)} KB/session, external ${kb(m0.external, m1.external)} KB/session, RSS ${kb(m0.rss, m1.rss)} KB/session`);
} finally {
  for (const s of socks) s.destroy();
  await srv.close();
}
