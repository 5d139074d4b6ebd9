import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { systemClock } from '../clock.ts';
import { startRedis, type TestRedis } from '../testing/redis-server.ts';
import { kvContract } from './kv-contract.ts';
import { MemoryKv } from './memory.ts';
import { RedisKv, type RedisKvOptions } from './redis.ts';

let redis: TestRedis;
before(async () => {
  redis = await startRedis({ unixSocket: true });
});
after(async () => {
  await redis.stop();
});

const opts = (o: Partial<RedisKvOptions> = {}): RedisKvOptions => ({ url: redis.url, prefix: 'pochta-test:', connectTimeoutMs: 5000, commandTimeoutMs: 5000, ...o });

/** Fails when a call hangs instead of rejecting; the timer is cleared either way. */
async function bounded<T>(p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_r, rej) => { timer = setTimeout(() => rej(new Error('kv call hung')), ms); })]);
  } finally {
    clearTimeout(timer);
  }
}

kvContract('MemoryKv', async () => new MemoryKv(systemClock));
kvContract('RedisKv (tcp url)', async () => new RedisKv(opts()));
kvContract('RedisKv (host/port)', async () => new RedisKv({ host: redis.host, port: redis.port, prefix: 'hp:', connectTimeoutMs: 5000, commandTimeoutMs: 5000 }));
kvContract('RedisKv (unix socket)', async () => new RedisKv({ path: redis.path!, prefix: 'sock:', connectTimeoutMs: 5000, commandTimeoutMs: 5000 }));

void test('two RedisKv on one Redis share keys and channels; another prefix is a separate space', async () => {
  const a = new RedisKv(opts({ prefix: 'shared:' }));
  const b = new RedisKv(opts({ prefix: 'shared:' }));
  const c = new RedisKv(opts({ prefix: 'other:' }));
  try {
    await a.set('k', 'from-a');
    assert.equal(await b.get('k'), 'from-a');
    assert.equal(await c.get('k'), undefined);
    assert.equal(await b.incr('n', 1, 60_000), 1);
    assert.equal(await a.incr('n'), 2);
    const heardB: string[] = [];
    const heardC: string[] = [];
    await b.subscribe('news', (m) => heardB.push(m));
    await c.subscribe('news', (m) => heardC.push(m));
    await a.publish('news', 'hi');
    const deadline = Date.now() + 30_000;
    while (!heardB.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(heardB, ['hi']);
    assert.deepEqual(heardC, [], 'the prefix applies to channels too');
  } finally {
    await Promise.all([a.close(), b.close(), c.close()]);
  }
});

void test('Redis down: every call rejects (bounded), and the store recovers when Redis is back', async () => {
  const own = await startRedis();
  const port = own.port;
  const kv = new RedisKv({ host: '127.0.0.1', port, prefix: 'down:', connectTimeoutMs: 2000, commandTimeoutMs: 2000 });
  let back: TestRedis | undefined;
  try {
    assert.equal(await kv.incr('x', 1, 60_000), 1);
    const heard: string[] = [];
    await kv.subscribe('events', (m) => heard.push(m));
    await own.stop();
    const calls: Array<() => Promise<unknown>> = [() => kv.get('x'), () => kv.incr('x', 1, 1000), () => kv.set('y', '1', { nx: true, ttlMs: 1000 }), () => kv.del('x'), () => kv.publish('c', 'm')];
    for (const call of calls) {
      await assert.rejects(bounded(call()), (err: Error) => err.message !== 'kv call hung');
    }
    back = await startRedis({ port });
    const deadline = Date.now() + 30_000;
    let v: number | undefined;
    while (v === undefined && Date.now() < deadline) {
      v = await kv.incr('x', 1, 60_000).catch(() => undefined);
      if (v === undefined) await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(v, 1, 'a fresh Redis (nothing persisted) counts from 1 again');
    // The subscription is renewed on the new connection: a publish reaches it again (bounded poll).
    const until = Date.now() + 30_000;
    while (!heard.length && Date.now() < until) {
      await kv.publish('events', 'after restart').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(heard[0], 'after restart');
  } finally {
    await kv.close();
    await own.stop();
    await back?.stop();
  }
});

void test('subscribing while Redis is down resolves; the listener hears messages once Redis is back', async () => {
  const own = await startRedis();
  const port = own.port;
  await own.stop();
  const kv = new RedisKv({ host: '127.0.0.1', port, prefix: 'late:', connectTimeoutMs: 2000, commandTimeoutMs: 2000 });
  let back: TestRedis | undefined;
  try {
    const heard: string[] = [];
    const stop = await bounded(kv.subscribe('late', (m) => heard.push(m)));
    back = await startRedis({ port });
    const until = Date.now() + 30_000;
    while (!heard.length && Date.now() < until) {
      await kv.publish('late', 'hello').catch(() => undefined);
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(heard[0], 'hello');
    await stop();
  } finally {
    await kv.close();
    await back?.stop();
  }
});

void test('a Redis that never answers makes calls fail within the command timeout', async () => {
  // A listening socket that accepts and never replies: the connect succeeds, commands hang.
  const net = await import('node:net');
  const sockets = new Set<import('node:net').Socket>();
  const silent = net.createServer((s) => { sockets.add(s); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const { port } = silent.address() as import('node:net').AddressInfo;
  const kv = new RedisKv({ host: '127.0.0.1', port, prefix: 'silent:', connectTimeoutMs: 300, commandTimeoutMs: 300 });
  try {
    await assert.rejects(bounded(kv.get('x')), (err: Error) => err.message !== 'kv call hung');
  } finally {
    await kv.close();
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
  }
});

void test('close is idempotent and later calls reject', async () => {
  const kv = new RedisKv(opts());
  await kv.set('z', '1');
  await kv.close();
  await kv.close();
  await assert.rejects(kv.get('z'), /closed/);
});
