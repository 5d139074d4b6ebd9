/**
 * Two server processes' worth of PochtaServer (worker 1 with IMAP, worker 2 with SMTP only) on one
 * data directory and one shared kv, as a multi-worker deployment with Redis: a message delivered by
 * worker 2 reaches a client in IDLE on worker 1 through the notification relay.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { MemoryKv } from '../kv/memory.ts';
import { systemClock } from '../clock.ts';
import { PochtaServer } from '../server.ts';
import { memoryLogger } from '../testing/memory-log.ts';
import { addUser, send } from '../../test/helpers/mail.ts';
import { ALICE, ALICE_PASSWORD, ImapWire, PLUGINS } from './test-support.ts';

let dataDir: string;
let kv: MemoryKv;
const servers: PochtaServer[] = [];

async function startWorker(id: number): Promise<PochtaServer> {
  const tree = {
    hostname: 'mail.example.net', dataDir, log: { level: 'warn' }, workers: 2, plugins: PLUGINS,
    smtp: { listeners: { mx: { kind: 'mx', host: '127.0.0.1', port: 0 } } },
    pop3: { listeners: {} },
    imap: { listeners: { imaps: { tls: 'implicit', host: '127.0.0.1', port: 0 } } },
  };
  const loaded = await loadConfig({ tree, cwd: dataDir, env: {} });
  const server = new PochtaServer({ loaded, log: memoryLogger('warn').log, kv, worker: { id, count: 2 } });
  await server.start();
  servers.push(server);
  return server;
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-imap-workers-'));
  await addUser(dataDir, ALICE, ALICE_PASSWORD);
  // Shared between the two servers as Redis would be between two processes.
  kv = new MemoryKv(systemClock);
});
after(async () => {
  // Each server closes the kv it was given; the MemoryKv tolerates a second close.
  for (const s of servers.reverse()) await s.stop();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
});

test('a delivery in worker 2 wakes IDLE in worker 1; only worker 1 serves IMAP', async () => {
  const w1 = await startWorker(1);
  const w2 = await startWorker(2);
  assert.ok(w1.addresses().imaps, 'worker 1 listens for IMAP');
  assert.equal(w2.addresses().imaps, undefined, 'worker 2 does not');
  const c = await ImapWire.connect(w1.addresses().imaps.port, { tls: true });
  try {
    await c.readResponse();
    await c.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`);
    const sel = await c.command('SELECT INBOX');
    assert.ok(sel.includes('* 0 EXISTS'));
    c.write('i IDLE\r\n');
    assert.equal(await c.readResponse(), '+ idling');
    await send({ port: w2.addresses().mx.port, from: 'x@elsewhere.test', to: [ALICE], raw: 'Subject: via worker 2\r\n\r\nhi\r\n' });
    assert.equal(await c.readResponse(), '* 1 EXISTS');
    c.write('DONE\r\n');
    const rest = await c.untilTagged('i');
    assert.equal(rest.at(-1), 'i OK IDLE terminated');
    const f = await c.command('FETCH 1 BODY.PEEK[HEADER.FIELDS (SUBJECT)]');
    assert.match(f[0], /Subject: via worker 2/);
  } finally {
    await c.close();
  }
});
