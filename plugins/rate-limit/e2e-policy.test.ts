/** Rate limits over real SMTP: every action, the skip lists, Redis failures. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startDnsServer } from '../../core/testing/dns-server.ts';
import { startRedis, type TestRedis } from '../../core/testing/redis-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { inbox, manualClock, open, server, session, transact, WINDOW } from './e2e-helpers.ts';

describe('rate-limit actions and skips with a shared Redis', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis.stop());

  test('actions: reject 550 5.7.1 / 554 5.7.1 at connect, quarantine to Junk, tag adds X-Policy-Check, ignore only records', async () => {
    const rej = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW, action: 'reject' }, connectionsPerIp: { limit: 3, windowMs: WINDOW, action: 'reject' } });
    const q = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW, action: 'quarantine' } });
    const tag = await server(redis, { recipientsPerIp: { limit: 1, windowMs: WINDOW, action: 'tag' } });
    const ign = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW, action: 'ignore' } });
    try {
      await session(rej.port('mx'), async (d) => {
        await transact(d, 'x@remote.test', ['alice@pochta.test']);
        assert.equal((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, '550 5.7.1 Too many messages from your address');
      });
      await session(rej.port('mx'), async () => undefined);
      await session(rej.port('mx'), async () => undefined);
      const refused = await open(rej.port('mx'));
      assert.equal(refused.greeting, '554 5.7.1 Too many connections from your address');
      assert.equal(await refused.d.waitClosed(), true);

      await session(q.port('mx'), async (d) => {
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'], 'q1')).final ?? '', /^250 /);
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'], 'q2')).final ?? '', /^250 /);
      });
      await waitFor(() => inbox(q, 'alice@pochta.test', 'q1'), 10_000, 'q1 in INBOX');
      await waitFor(() => inbox(q, 'alice@pochta.test', 'q2', 'Junk'), 10_000, 'q2 in Junk');

      await session(tag.port('mx'), async (d) => {
        const r = await transact(d, 'x@remote.test', ['alice@pochta.test', 'bob@pochta.test'], 't1');
        assert.match(r.final ?? '', /^250 /);
      });
      const tagged = await waitFor(() => inbox(tag, 'bob@pochta.test', 't1'), 10_000, 'tagged');
      assert.match(tagged, /^X-Policy-Check: rate-limit\/recipientsPerIp=exceeded \(2\/1 per 600s\)\r$/m);

      await session(ign.port('mx'), async (d) => {
        await transact(d, 'x@remote.test', ['alice@pochta.test'], 'i1');
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'], 'i2')).final ?? '', /^250 /);
      });
      const ignored = await waitFor(() => inbox(ign, 'alice@pochta.test', 'i2'), 10_000, 'ignored');
      assert.doesNotMatch(ignored, /X-Policy-Check/);
    } finally {
      await Promise.all([rej.close(), q.close(), tag.close(), ign.close()]);
    }
  });

  test('skip lists: networks, senders, authenticated sessions', async () => {
    const net = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW }, skipNetworks: ['127.0.0.0/8'] });
    const snd = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW }, skipSenders: ['@trusted.test'] });
    const auth = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW } });
    try {
      await session(net.port('mx'), async (d) => {
        for (let i = 0; i < 3; i++) assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, /^250 /);
      });
      await session(snd.port('mx'), async (d) => {
        for (let i = 0; i < 3; i++) assert.match((await transact(d, 'x@trusted.test', ['alice@pochta.test'])).mail, /^250 /);
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, /^250 /);
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, /^451 4\.7\.1 /);
      });
      for (let i = 0; i < 3; i++) {
        const r = await send({ port: auth.port('submissions'), secure: true, auth: { user: 'alice@pochta.test', pass: 'alice password 1' }, from: 'alice@pochta.test', to: ['bob@pochta.test'], raw: `Subject: auth${i}\r\n\r\nx\r\n` });
        assert.match(r.response, /^250 /);
      }
    } finally {
      await Promise.all([net.close(), snd.close(), auth.close()]);
    }
  });
});

describe('rate-limit when Redis is down', () => {
  test('onKvFailure accept lets mail through (logged); tempfail answers 421 4.3.0 at connect and 451 4.3.0 at MAIL FROM', async () => {
    const redis = await startRedis();
    const openSrv = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW } });
    const closedMsg = await server(redis, { messagesPerIp: { limit: 1, windowMs: WINDOW }, onKvFailure: 'tempfail' });
    const closedConn = await server(redis, { connectionsPerIp: { limit: 100, windowMs: WINDOW }, onKvFailure: 'tempfail' });
    try {
      await redis.stop();
      await session(openSrv.port('mx'), async (d) => {
        for (let i = 0; i < 3; i++) assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'], `down${i}`)).final ?? '', /^250 /);
      });
      assert.ok(openSrv.logs.some((l) => l.event === 'rate-limit.kv_failed'));
      await session(closedMsg.port('mx'), async (d) => {
        assert.equal((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, '451 4.3.0 Temporary local problem, please try again later');
      });
      const { d, greeting } = await open(closedConn.port('mx'));
      assert.equal(greeting, '421 4.3.0 Temporary local problem, please try again later');
      assert.equal(await d.waitClosed(), true);
    } finally {
      await Promise.all([openSrv.close(), closedMsg.close(), closedConn.close()]);
      await redis.stop();
    }
  });

  test('without Redis configured the limits work in memory', async () => {
    const s = await server(undefined, { messagesPerIp: { limit: 1, windowMs: WINDOW } });
    try {
      await session(s.port('mx'), async (d) => {
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, /^250 /);
        assert.match((await transact(d, 'x@remote.test', ['alice@pochta.test'])).mail, /^451 4\.7\.1 /);
      });
    } finally {
      await s.close();
    }
  });
});


describe('rate-limit runs before the checks that ask DNS', () => {
  test('a connection over the limit is refused before dnsbl or helo-rdns send a query; one within it is checked', async () => {
    const dns = await startDnsServer({});
    const s = await startTestServer({
      config: {
        dns: { servers: [dns.server], timeoutMs: 1000, tries: 1, cache: { maxEntries: 0 } },
        plugins: {
          'rate-limit': { connectionsPerIp: { limit: 1, windowMs: WINDOW } },
          dnsbl: { zones: [{ zone: 'listed.test' }], checkPrivate: true },
          'helo-rdns': { checkPrivate: true },
          'local-domains': { domains: ['pochta.test'] },
        },
      },
      clock: manualClock(),
    });
    try {
      const first = await Dialogue.connect(s.port('mx'));
      assert.match(await first.reply(), /^220 /);
      first.close();
      const asked = dns.queries.length;
      assert.ok(asked >= 2, `the first connection was checked (list and PTR): ${JSON.stringify(dns.queries)}`);
      const second = await Dialogue.connect(s.port('mx'));
      assert.match(await second.reply(), /^421 4\.7\.0 /);
      second.close();
      assert.deepEqual(dns.queries.slice(asked), [], 'no lookup for the refused connection');
    } finally {
      await s.close();
      await dns.close();
    }
  });
});
