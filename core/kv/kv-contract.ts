/**
 * The behaviour every KeyValueStore must have; run against MemoryKv and RedisKv alike
 * (core/kv/redis.test.ts). Expiry is checked by polling with a bound, never by timing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KeyValueStore } from './kv.ts';

async function eventually(check: () => Promise<boolean>, what: string, limitMs = 30_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`never happened: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function kvContract(name: string, open: () => Promise<KeyValueStore>): void {
  const withKv = (title: string, fn: (kv: KeyValueStore, id: string) => Promise<void>) => {
    void test(`${name}: ${title}`, async () => {
      const kv = await open();
      try {
        await fn(kv, `t${Math.random().toString(36).slice(2)}:`);
      } finally {
        await kv.close();
      }
    });
  };

  withKv('get of a missing key is undefined; set then get returns the value; del removes it', async (kv, id) => {
    assert.equal(await kv.get(`${id}a`), undefined);
    assert.equal(await kv.set(`${id}a`, 'one'), true);
    assert.equal(await kv.get(`${id}a`), 'one');
    assert.equal(await kv.set(`${id}a`, 'two'), true, 'a plain set overwrites');
    assert.equal(await kv.get(`${id}a`), 'two');
    await kv.del(`${id}a`);
    assert.equal(await kv.get(`${id}a`), undefined);
    await kv.del(`${id}never`);
  });

  withKv('getMany returns values in the order asked, undefined for missing keys', async (kv, id) => {
    assert.deepEqual(await kv.getMany([]), []);
    await kv.set(`${id}x`, '1');
    await kv.set(`${id}z`, '3');
    assert.deepEqual(await kv.getMany([`${id}z`, `${id}y`, `${id}x`, `${id}z`]), ['3', undefined, '1', '3']);
    await kv.set(`${id}t`, 'short', { ttlMs: 1 });
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(await kv.getMany([`${id}t`]), [undefined], 'an expired key is missing');
  });

  withKv('set nx only sets an absent key and says whether it did', async (kv, id) => {
    assert.equal(await kv.set(`${id}n`, 'first', { nx: true }), true);
    assert.equal(await kv.set(`${id}n`, 'second', { nx: true }), false);
    assert.equal(await kv.get(`${id}n`), 'first');
    assert.equal(await kv.set(`${id}m`, 'x', { nx: true, ttlMs: 60_000 }), true);
    assert.equal(await kv.set(`${id}m`, 'y', { nx: true, ttlMs: 60_000 }), false);
  });

  withKv('a ttl expires the key; nx may set it again afterwards', async (kv, id) => {
    assert.equal(await kv.set(`${id}t`, 'v', { ttlMs: 60_000 }), true);
    assert.equal(await kv.get(`${id}t`), 'v', 'a long ttl keeps it');
    assert.equal(await kv.set(`${id}s`, 'v', { ttlMs: 100, nx: true }), true);
    await eventually(async () => (await kv.get(`${id}s`)) === undefined, 'the 100 ms key expires');
    assert.equal(await kv.set(`${id}s`, 'again', { nx: true }), true);
    assert.equal(await kv.get(`${id}s`), 'again');
  });

  withKv('incr counts from zero, by any step, and returns the new value', async (kv, id) => {
    assert.equal(await kv.incr(`${id}c`), 1);
    assert.equal(await kv.incr(`${id}c`), 2);
    assert.equal(await kv.incr(`${id}c`, 5), 7);
    assert.equal(await kv.incr(`${id}c`, -3), 4);
    assert.equal(await kv.get(`${id}c`), '4');
  });

  withKv('incr applies its ttl when it creates the key, not later', async (kv, id) => {
    // 2 s: long enough for the next call even on a loaded machine, short enough to wait for.
    assert.equal(await kv.incr(`${id}w`, 1, 2000), 1);
    assert.equal(await kv.incr(`${id}w`, 1, 60_000), 2, 'the second ttl does not extend the window');
    await eventually(async () => (await kv.get(`${id}w`)) === undefined, 'the counter window ends');
    assert.equal(await kv.incr(`${id}w`, 1, 60_000), 1, 'a new window starts at 1');

    assert.equal(await kv.incr(`${id}p`), 1);
    assert.equal(await kv.incr(`${id}p`, 1, 50), 2, 'a key created without ttl keeps none');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await kv.get(`${id}p`), '2');
  });

  withKv('concurrent incr calls lose no update', async (kv, id) => {
    const rs = await Promise.all(Array.from({ length: 50 }, () => kv.incr(`${id}r`, 1, 60_000)));
    assert.deepEqual([...rs].sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i + 1));
  });

  withKv('publish reaches every subscriber of the channel, and only them; unsubscribe stops it', async (kv, id) => {
    const a: string[] = [];
    const b: string[] = [];
    const other: string[] = [];
    const stopA = await kv.subscribe(`${id}ch`, (m) => a.push(m));
    const stopB = await kv.subscribe(`${id}ch`, (m) => b.push(m));
    const stopO = await kv.subscribe(`${id}other`, (m) => other.push(m));
    await kv.publish(`${id}ch`, 'hello');
    await eventually(async () => a.length === 1 && b.length === 1, 'both subscribers hear it');
    assert.deepEqual([a, b, other], [['hello'], ['hello'], []]);
    await stopA();
    await kv.publish(`${id}ch`, 'second');
    await eventually(async () => b.length === 2, 'the remaining subscriber hears the second');
    assert.deepEqual(a, ['hello']);
    await stopB();
    await stopO();
    await kv.publish(`${id}ch`, 'nobody');
  });
}
