/**
 * The same as workers-relay.test.ts, but each server has its own Redis connection to one real
 * redis-server, as two processes (or two machines on one shared Maildir) would: the IMAP change
 * notification crosses from one server to the other through Redis pub/sub.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { PochtaServer } from '../server.ts';
import { memoryLogger } from '../testing/memory-log.ts';
import { startRedis, type TestRedis } from '../testing/redis-server.ts';
import { addUser, send } from '../../test/helpers/mail.ts';
import { ALICE, ALICE_PASSWORD, ImapWire, PLUGINS } from './test-support.ts';

let dataDir: string;
let redis: TestRedis;
const servers: PochtaServer[] = [];

async function startNode(id: number): Promise<PochtaServer> {
  const tree = {
    hostname: 'mail.example.net', dataDir, log: { level: 'warn' }, workers: 2, plugins: PLUGINS,
    kv: { redis: { url: redis.url } },
    smtp: { listeners: { mx: { kind: 'mx', host: '127.0.0.1', port: 0 } } },
    pop3: { listeners: {} },
    imap: { listeners: { imaps: { tls: 'implicit', host: '127.0.0.1', port: 0 } } },
  };
  const loaded = await loadConfig({ tree, cwd: dataDir, env: {} });
  const server = new PochtaServer({ loaded, log: memoryLogger('warn').log, worker: { id, count: 2 } });
  await server.start();
  servers.push(server);
  return server;
}

before(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-imap-redis-'));
  await addUser(dataDir, ALICE, ALICE_PASSWORD);
  redis = await startRedis();
});
after(async () => {
  for (const s of servers.reverse()) await s.stop();
  await redis.stop();
  await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
});

test('with Redis configured, a delivery on one server wakes IDLE on the other', async () => {
  const a = await startNode(1);
  const b = await startNode(2);
  const c = await ImapWire.connect(a.addresses().imaps.port, { tls: true });
  try {
    await c.readResponse();
    await c.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`);
    assert.ok((await c.command('SELECT INBOX')).includes('* 0 EXISTS'));
    c.write('i IDLE\r\n');
    assert.equal(await c.readResponse(), '+ idling');
    await send({ port: b.addresses().mx.port, from: 'x@elsewhere.test', to: [ALICE], raw: 'Subject: via redis\r\n\r\nhi\r\n' });
    assert.equal(await c.readResponse(), '* 1 EXISTS');
    c.write('DONE\r\n');
    assert.equal((await c.untilTagged('i')).at(-1), 'i OK IDLE terminated');
  } finally {
    await c.close();
  }
});
