/** Rate limits over real SMTP: counters in a real redis-server shared by two servers, windows moved by an injected clock. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startRedis, type TestRedis } from '../../core/testing/redis-server.ts';
import { waitFor } from '../../test/helpers/mail.ts';
import { manualClock, open, redisGet, server, session, transact, WINDOW } from './e2e-helpers.ts';

describe('rate-limit over SMTP with a shared Redis', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis.stop());

  test('connections per IP are counted across two servers; the one over the limit gets 421 4.7.0 and is closed; a new window lets it in', async () => {
    const clock = manualClock();
    const limits = { connectionsPerIp: { limit: 2, windowMs: WINDOW } };
    const a = await server(redis, limits, clock, 'rl-conn:');
    const b = await server(redis, limits, clock, 'rl-conn:');
    try {
      for (const port of [a.port('mx'), b.port('mx')]) {
        const { d, greeting } = await open(port);
        assert.match(greeting, /^220 /);
        await d.cmd('QUIT');
      }
      const { d, greeting } = await open(a.port('mx'));
      assert.equal(greeting, '421 4.7.0 Too many connections from your address, try again later');
      assert.equal(await d.waitClosed(), true);
      clock.advance(WINDOW);
      const again = await open(b.port('mx'));
      assert.match(again.greeting, /^220 /);
      await again.d.cmd('QUIT');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('concurrent connections per IP across two servers; closing one frees a place', async () => {
    const limits = { concurrentConnectionsPerIp: { limit: 1 } };
    const a = await server(redis, limits, undefined, 'rl-conc:');
    const b = await server(redis, limits, undefined, 'rl-conc:');
    try {
      const first = await open(a.port('mx'));
      assert.match(first.greeting, /^220 /);
      const second = await open(b.port('mx'));
      assert.equal(second.greeting, '421 4.7.0 Too many connections from your address, try again later');
      assert.equal(await second.d.waitClosed(), true);
      await first.d.cmd('QUIT');
      await first.d.waitClosed();
      // The release runs at disconnect, just after the close: poll (bounded) until B lets us in.
      const third = await waitFor(async () => {
        const o = await open(b.port('mx'));
        if (o.greeting.startsWith('220')) return o;
        await o.d.waitClosed();
        return undefined;
      }, 10_000, 'a free place');
      await third.d.cmd('QUIT');
      await third.d.waitClosed();
      await waitFor(async () => (await redisGet(redis, 'rl-conc:rate:open:127.0.0.1')) === null, 10_000, 'the gauge back to zero');
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('messages per IP and per sender: 451 4.7.1 at MAIL FROM over the limit, counted across servers', async () => {
    const clock = manualClock();
    const limits = { messagesPerIp: { limit: 3, windowMs: WINDOW }, messagesPerSender: { limit: 2, windowMs: WINDOW } };
    const a = await server(redis, limits, clock, 'rl-msg:');
    const b = await server(redis, limits, clock, 'rl-msg:');
    try {
      await session(a.port('mx'), async (d) => {
        assert.match((await transact(d, 's1@remote.test', ['alice@pochta.test'], 'm1')).final ?? '', /^250 /);
      });
      await session(b.port('mx'), async (d) => {
        assert.match((await transact(d, 's1@remote.test', ['alice@pochta.test'], 'm2')).final ?? '', /^250 /);
        assert.equal((await transact(d, 'S1@remote.test', ['alice@pochta.test'])).mail, '451 4.7.1 Too many messages from this sender, try again later');
        assert.equal((await transact(d, 's2@remote.test', ['alice@pochta.test'])).mail, '451 4.7.1 Too many messages from your address, try again later');
      });
      clock.advance(WINDOW);
      await session(a.port('mx'), async (d) => {
        assert.match((await transact(d, 's1@remote.test', ['alice@pochta.test'], 'm3')).final ?? '', /^250 /);
      });
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('recipients per IP, per sender and messages per recipient: 451 4.7.1 at RCPT TO', async () => {
    const ip = await server(redis, { recipientsPerIp: { limit: 2, windowMs: WINDOW } });
    const snd = await server(redis, { recipientsPerSender: { limit: 1, windowMs: WINDOW } });
    const rcp = await server(redis, { messagesPerRecipient: { limit: 1, windowMs: WINDOW } });
    try {
      await session(ip.port('mx'), async (d) => {
        const r = await transact(d, 'x@remote.test', ['alice@pochta.test', 'bob@pochta.test', 'alice@pochta.test']);
        assert.deepEqual(r.rcpts.map((x) => x.slice(0, 9)), ['250 2.1.5', '250 2.1.5', '451 4.7.1']);
        assert.equal(r.rcpts[2], '451 4.7.1 Too many recipients from your address, try again later');
      });
      await session(snd.port('mx'), async (d) => {
        const r = await transact(d, 'x@remote.test', ['alice@pochta.test', 'bob@pochta.test']);
        assert.equal(r.rcpts[1], '451 4.7.1 Too many recipients from this sender, try again later');
        const other = await transact(d, 'y@remote.test', ['bob@pochta.test']);
        assert.match(other.rcpts[0] ?? '', /^250 /, 'another sender has its own count');
      });
      await session(rcp.port('mx'), async (d) => {
        const r = await transact(d, 'x@remote.test', ['alice@pochta.test', 'bob@pochta.test']);
        assert.deepEqual(r.rcpts.map((x) => x.slice(0, 3)), ['250', '250']);
        const again = await transact(d, 'y@remote.test', ['Alice@pochta.test', 'bob@pochta.test']);
        assert.equal(again.rcpts[0], '451 4.7.1 Too many messages for this recipient, try again later');
      });
    } finally {
      await Promise.all([ip.close(), snd.close(), rcp.close()]);
    }
  });
});
