/**
 * Greylisting over real SMTP: two Pochta servers sharing one real redis-server, an injected clock
 * moved by the test (no waiting, no timed assertions), and Redis failures.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startRedis, type TestRedis } from '../../core/testing/redis-server.ts';
import { startDnsServer } from '../../core/testing/dns-server.ts';
import { reversedLabels } from '../../core/dns/reverse-name.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';

type Server = Awaited<ReturnType<typeof startTestServer>>;

const DELAY = 300_000;

function manualClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

function plugins(greylist: Record<string, unknown> = {}) {
  return {
    'relay-acl': {}, 'auth-file': {},
    greylist: { delayMs: DELAY, ...greylist },
    'local-domains': { domains: ['pochta.test'] }, maildir: {},
  };
}

async function server(opts: { redis?: TestRedis; clock?: { now(): number }; greylist?: Record<string, unknown>; prefix?: string }): Promise<Server> {
  return startTestServer({
    config: {
      plugins: plugins(opts.greylist),
      ...(opts.redis ? { kv: { redis: { url: opts.redis.url, prefix: opts.prefix ?? 'grey-e2e:', commandTimeoutMs: 5000, connectTimeoutMs: 5000 } } } : {}),
    },
    ...(opts.clock ? { clock: opts.clock } : {}),
    setup: async (dir) => addUser(dir, 'alice@pochta.test', 'alice password 1'),
  });
}

/** One transaction over a raw socket: the RCPT reply, and the final reply when the RCPT was accepted. */
async function attempt(port: number, from: string, to: string, subject = 'hello'): Promise<{ rcpt: string; final?: string }> {
  const d = await Dialogue.connect(port);
  try {
    await d.reply();
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd(`MAIL FROM:<${from}>`), /^250/);
    const rcpt = await d.cmd(`RCPT TO:<${to}>`);
    if (!rcpt.startsWith('250')) return { rcpt };
    assert.match(await d.cmd('DATA'), /^354/);
    const final = await d.cmd(`Subject: ${subject}\r\nMessage-ID: <${subject}@client.test>\r\n\r\nbody\r\n.`);
    return { rcpt, final };
  } finally {
    await d.cmd('QUIT').catch(() => undefined);
  }
}

const inboxHas = async (s: Server, subject: string, folder = '') =>
  (await readInbox(s.dataDir, 'alice@pochta.test', folder)).find((m) => m.includes(`Subject: ${subject}\r\n`));

describe('greylist over SMTP with a shared Redis', () => {
  let redis: TestRedis;
  before(async () => {
    redis = await startRedis();
  });
  after(async () => redis.stop());

  test('a triplet greylisted on server A passes on server B after the delay (state shared through Redis)', async () => {
    const clock = manualClock();
    const a = await server({ redis, clock });
    const b = await server({ redis, clock });
    try {
      const first = await attempt(a.port('mx'), 'sender@remote.test', 'alice@pochta.test', 'grey1');
      assert.match(first.rcpt, /^451 4\.7\.1 Greylisted, please try again later \(in about 300 seconds\)$/);
      clock.advance(100_000);
      const early = await attempt(b.port('mx'), 'sender@remote.test', 'alice@pochta.test', 'grey1');
      // B never saw this client: only the shared state tells it 100 of the 300 seconds are over.
      assert.match(early.rcpt, /^451 4\.7\.1 Greylisted, please try again later \(in about 200 seconds\)$/);
      clock.advance(DELAY - 100_000);
      const retry = await attempt(b.port('mx'), 'sender@remote.test', 'alice@pochta.test', 'grey1');
      assert.match(retry.rcpt, /^250/);
      assert.match(retry.final ?? '', /^250 2\.0\.0 Ok: delivered as /);
      await waitFor(() => inboxHas(b, 'grey1'), 10_000, 'delivery on B');
      // Known on A too now; a different sender is still new everywhere.
      assert.match((await attempt(a.port('mx'), 'sender@remote.test', 'alice@pochta.test', 'grey2')).final ?? '', /^250/);
      assert.match((await attempt(a.port('mx'), 'other@remote.test', 'alice@pochta.test', 'grey3')).rcpt, /^451 4\.7\.1/);
      assert.ok(a.logs.some((l) => l.event === 'greylist.greylisted'));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('authenticated submission and allow-listed networks are not greylisted', async () => {
    const s = await server({ redis, prefix: 'grey-skip:' });
    const allow = await server({ redis, prefix: 'grey-skip2:', greylist: { networks: ['127.0.0.0/8'] } });
    try {
      const r = await send({ port: s.port('submissions'), secure: true, auth: { user: 'alice@pochta.test', pass: 'alice password 1' }, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: 'Subject: own\r\n\r\nmine\r\n' });
      assert.match(r.response, /^250 /);
      const viaAllow = await attempt(allow.port('mx'), 'x@remote.test', 'alice@pochta.test', 'allowed');
      assert.match(viaAllow.final ?? viaAllow.rcpt, /^250 /);
    } finally {
      await s.close();
      await allow.close();
    }
  });

  test('action tag and ignore deliver (tag adds X-Policy-Check); quarantine delivers to Junk; every mode records the triplet', async () => {
    const clock = manualClock();
    const tag = await server({ redis, clock, prefix: 'grey-tag:', greylist: { action: 'tag' } });
    const ign = await server({ redis, clock, prefix: 'grey-ign:', greylist: { action: 'ignore' } });
    const q = await server({ redis, clock, prefix: 'grey-q:', greylist: { action: 'quarantine' } });
    try {
      assert.match((await attempt(tag.port('mx'), 's@remote.test', 'alice@pochta.test', 'tagged')).final ?? '', /^250/);
      const tagged = await waitFor(() => inboxHas(tag, 'tagged'), 10_000, 'tagged delivery');
      assert.match(tagged, /^X-Policy-Check: greylist\/triplet=greylisted \(127\.0\.0\.0\/24\)\r$/m);

      assert.match((await attempt(ign.port('mx'), 's@remote.test', 'alice@pochta.test', 'ignored')).final ?? '', /^250/);
      const ignored = await waitFor(() => inboxHas(ign, 'ignored'), 10_000, 'ignored delivery');
      assert.doesNotMatch(ignored, /X-Policy-Check/);

      assert.match((await attempt(q.port('mx'), 's@remote.test', 'alice@pochta.test', 'quarantined')).final ?? '', /^250/);
      await waitFor(() => inboxHas(q, 'quarantined', 'Junk'), 10_000, 'Junk delivery');
      assert.equal(await inboxHas(q, 'quarantined'), undefined, 'not in INBOX');

      // After the delay the same triplet passes: the dry run recorded it.
      clock.advance(DELAY);
      assert.match((await attempt(tag.port('mx'), 's@remote.test', 'alice@pochta.test', 'tagged2')).final ?? '', /^250/);
      const second = await waitFor(() => inboxHas(tag, 'tagged2'), 10_000, 'second delivery');
      assert.doesNotMatch(second, /X-Policy-Check/);
    } finally {
      await Promise.all([tag.close(), ign.close(), q.close()]);
    }
  });
});

describe('greylist when Redis is down', () => {
  test('default onKvFailure accept: the recipient is accepted and the failure logged; tempfail: 451 4.3.0', async () => {
    const redis = await startRedis();
    const open = await server({ redis, prefix: 'down-a:' });
    const closed = await server({ redis, prefix: 'down-b:', greylist: { onKvFailure: 'tempfail' } });
    try {
      assert.match((await attempt(open.port('mx'), 'n@remote.test', 'alice@pochta.test')).rcpt, /^451 4\.7\.1/, 'greylisting works while Redis is up');
      await redis.stop();
      const r = await attempt(open.port('mx'), 'm@remote.test', 'alice@pochta.test', 'failopen');
      assert.match(r.final ?? r.rcpt, /^250 2\.0\.0/);
      await waitFor(() => inboxHas(open, 'failopen'), 10_000, 'delivered while Redis is down');
      assert.ok(open.logs.some((l) => l.event === 'greylist.kv_failed'));
      assert.match((await attempt(closed.port('mx'), 'm@remote.test', 'alice@pochta.test')).rcpt, /^451 4\.3\.0 /);
    } finally {
      await open.close();
      await closed.close();
      await redis.stop();
    }
  });
});

describe('greylist and the dnsbl plugin\'s DNS allow list', () => {
  test('a client on a DNSWL (dnsbl allowZones, real DNS server) is not greylisted; the evidence says why', async () => {
    const dns = await startDnsServer({ [`${reversedLabels('127.0.0.1')!}.wl.test`]: { A: ['127.0.10.2'] } });
    const mk = (allowZones: unknown[]) => startTestServer({
      config: {
        dns: { servers: [dns.server], timeoutMs: 2000, tries: 1 },
        plugins: {
          'relay-acl': {}, 'auth-file': {}, dnsbl: { checkPrivate: true, zones: [{ zone: 'bl.test' }], allowZones },
          greylist: { delayMs: DELAY, action: 'tag' }, 'local-domains': { domains: ['pochta.test'] }, maildir: {},
        },
      },
      setup: async (dir) => addUser(dir, 'alice@pochta.test', 'alice password 1'),
    });
    const listed = await mk([{ zone: 'wl.test', returnCodes: ['127.0.10.0/24'] }]);
    const unlisted = await mk([{ zone: 'other-wl.test' }]);
    try {
      assert.match((await attempt(listed.port('mx'), 's@remote.test', 'alice@pochta.test', 'wl1')).final ?? '', /^250/);
      const m = await waitFor(() => inboxHas(listed, 'wl1'), 10_000, 'delivery');
      assert.doesNotMatch(m, /greylist/, 'not greylisted, so no tag');
      const record = listed.logs.find((l) => Array.isArray(l.evidence) && JSON.stringify(l.evidence).includes('"plugin":"greylist"'));
      assert.deepEqual((record?.evidence as Array<{ plugin: string }>).filter((e) => e.plugin === 'greylist'), [{ plugin: 'greylist', check: 'triplet', result: 'skipped', reason: 'dnswl wl.test' }]);
      assert.match((await attempt(unlisted.port('mx'), 's@remote.test', 'alice@pochta.test', 'wl2')).final ?? '', /^250/);
      const m2 = await waitFor(() => inboxHas(unlisted, 'wl2'), 10_000, 'delivery');
      assert.match(m2, /^X-Policy-Check: greylist\/triplet=greylisted/m, 'without the listing it would have been greylisted');
    } finally {
      await listed.close();
      await unlisted.close();
      await dns.close();
    }
  });
});

