import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { loadConfig } from '../config/load.ts';
import { startRedis } from '../testing/redis-server.ts';
import { startTestServer } from '../testing/server-harness.ts';
import { MemoryKv } from './memory.ts';
import { RedisKv } from './redis.ts';

void test('kv config: absent means memory; kv.redis is validated with the key named', async () => {
  const base = await loadConfig({ tree: {}, cwd: tmpdir(), env: {} });
  assert.equal(base.config.kv.redis, undefined);
  const ok = await loadConfig({ tree: { kv: { redis: { url: 'redis://127.0.0.1:6390/2' } } }, cwd: tmpdir(), env: {} });
  assert.deepEqual(ok.config.kv.redis, { url: 'redis://127.0.0.1:6390/2', prefix: 'pochta:', connectTimeoutMs: 2000, commandTimeoutMs: 1000 });
  await assert.rejects(loadConfig({ tree: { kv: { redis: { url: 'http://127.0.0.1' } } }, cwd: tmpdir(), env: {} }), /kv\.redis\.url/);
  await assert.rejects(loadConfig({ tree: { kv: { redis: { hots: 'x' } } }, cwd: tmpdir(), env: {} }), /kv\.redis/);
});

void test('the server builds a RedisKv when kv.redis is set, a MemoryKv otherwise, and closes it on stop', async () => {
  const redis = await startRedis();
  const plain = await startTestServer();
  const shared = await startTestServer({ config: { kv: { redis: { host: redis.host, port: redis.port, prefix: 'wiring:' } } } });
  try {
    assert.ok(plain.server.kv instanceof MemoryKv);
    assert.ok(shared.server.kv instanceof RedisKv);
    await shared.server.kv.set('k', 'v');
    const probe = new RedisKv({ host: redis.host, port: redis.port, prefix: 'wiring:', connectTimeoutMs: 5000, commandTimeoutMs: 5000 });
    assert.equal(await probe.get('k'), 'v', 'the server wrote into the configured Redis, under its prefix');
    await probe.close();
  } finally {
    await plain.close();
    await shared.close();
    await redis.stop();
  }
  await assert.rejects(shared.server.kv.get('k'), /closed/, 'stop closed the connection');
});
