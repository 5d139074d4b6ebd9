/**
 * dnsbl end to end: real servers, real SMTP clients, a real DNS server serving the lists.
 * Each scenario is its own client address (127.0.0.x, chosen with the socket's local address),
 * listed on its own zones, so two servers cover every action without sharing a cached answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { reversedLabels } from '../../core/dns/reverse-name.ts';
import { addUser, readInbox, send, waitFor } from '../../test/helpers/mail.ts';

const rev = (ip: string) => reversedLabels(ip)!;
const C = {
  reject: '127.0.0.2',
  tempfail: '127.0.0.3',
  quarantine: '127.0.0.4',
  tag: '127.0.0.5',
  ignore: '127.0.0.6',
  refused: '127.0.0.7',
  slow: '127.0.0.8',
  allowed: '127.0.0.9',
  otherCode: '127.0.0.10',
  clean: '127.0.0.11',
  cached: '127.0.0.12',
} as const;

const ZONE = {
  [`${rev(C.reject)}.listed.test`]: { A: ['127.0.0.2'] },
  [`${rev(C.tempfail)}.soft.test`]: { A: ['127.0.0.3'] },
  [`${rev(C.quarantine)}.junk.test`]: { A: ['127.0.0.2'] },
  [`${rev(C.tag)}.tag-a.test`]: { A: ['127.0.0.2'] },
  [`${rev(C.tag)}.tag-b.test`]: { A: ['127.0.0.4'] },
  [`${rev(C.ignore)}.quiet.test`]: { A: ['127.0.0.2'] },
  [`${rev(C.refused)}.listed.test`]: { A: ['127.255.255.254'] },
  [`${rev(C.slow)}.listed.test`]: { silent: true },
  [`${rev(C.allowed)}.wl.test`]: { A: ['127.0.10.2'] },
  [`${rev(C.allowed)}.listed.test`]: { A: ['127.0.0.2'] },
  [`${rev(C.otherCode)}.listed.test`]: { A: ['127.0.0.20'] }, // outside listed.test's returnCodes
  [`${rev(C.otherCode)}.anycode.test`]: { A: ['127.0.0.20'] },
  [`${rev(C.cached)}.tag-a.test`]: { A: ['127.0.0.2'] },
  [`${rev('::1')}.six.test`]: { A: ['127.0.0.3'] },
};

const codes = ['127.0.0.2-127.0.0.11'];
const MSG = 'From: sender@elsewhere.test\r\nTo: alice@pochta.test\r\nSubject: dnsbl test\r\n\r\nhello\r\n';

describe('dnsbl end to end', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer(ZONE);
  });
  after(async () => dns.close());

  async function server(dnsbl: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    return startTestServer({
      config: {
        dns: { servers: [dns.server], timeoutMs: 3000, tries: 1 },
        smtp: { listeners: { mx6: { kind: 'mx', host: '::1', port: 0 } } },
        plugins: { 'relay-acl': {}, dnsbl: { checkPrivate: true, ...dnsbl }, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} },
        ...extra,
      },
      setup: async (dir) => {
        await addUser(dir, 'alice@pochta.test', 'alice password 1');
        await addUser(dir, 'postmaster@pochta.test', 'postmaster pw 1');
      },
    });
  }
  type Server = Awaited<ReturnType<typeof server>>;

  /** A whole transaction from `client`; every reply, and the connection's end. */
  async function talk(t: Server, client: string, rcpts: string[], opts: { host?: string; port?: number } = {}) {
    const d = await Dialogue.connect(opts.port ?? t.port('mx'), { localAddress: client, ...(opts.host ? { host: opts.host } : {}) });
    const greeting = await d.reply();
    if (!greeting.startsWith('220')) {
      return { greeting, rcpt: [] as string[], data: undefined, closed: await d.waitClosed(5000) };
    }
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
    const rcpt: string[] = [];
    for (const r of rcpts) rcpt.push(await d.cmd(`RCPT TO:<${r}>`));
    let data: string | undefined;
    if (rcpt.some((r) => r.startsWith('250'))) {
      assert.match(await d.cmd('DATA'), /^354 /);
      data = await d.cmd(`${MSG}.`);
    }
    await d.cmd('QUIT');
    d.close();
    return { greeting, rcpt, data, closed: true };
  }
  const txLog = (t: Server, client: string) => t.logs.filter((l) => l.event === 'smtp.transaction' && l.remote === client);

  describe('rejectAt rcpt (the default), one zone per action', () => {
    let t: Server;
    before(async () => {
      t = await server({
        zones: [
          { zone: 'listed.test', returnCodes: codes },
          { zone: 'soft.test', returnCodes: codes, action: 'tempfail' },
          { zone: 'junk.test', returnCodes: codes, action: 'quarantine', score: 7 },
          { zone: 'tag-a.test', returnCodes: codes, action: 'tag', score: 3 },
          { zone: 'tag-b.test', returnCodes: codes, action: 'tag', score: 1.5 },
          { zone: 'quiet.test', returnCodes: codes, action: 'ignore', score: 2 },
        ],
        allowZones: [{ zone: 'wl.test', returnCodes: ['127.0.10.0/24'] }],
        budgetMs: 2000, // the silent list costs this much; the others answer well within it even on a busy machine
      });
    });
    after(async () => t.close());

    test('reject: 550 5.7.1 naming the list at every RCPT, postmaster still accepted and delivered', async () => {
      const r = await talk(t, C.reject, ['alice@pochta.test', 'Postmaster@pochta.test', 'bob@pochta.test']);
      assert.equal(r.greeting.slice(0, 4), '220 ', 'the session goes on past the greeting');
      assert.equal(r.rcpt[0], '550 5.7.1 Rejected: client [127.0.0.2] listed at listed.test; postmaster is still reachable');
      assert.match(r.rcpt[1] ?? '', /^250 /);
      assert.equal(r.rcpt[2], r.rcpt[0]);
      assert.match(r.data ?? '', /^250 /);
      const pm = await waitFor(async () => (await readInbox(t.dataDir, 'postmaster@pochta.test')).find((m) => m.includes('[127.0.0.2]')), 5000, 'postmaster delivery');
      assert.match(pm, /Subject: dnsbl test/);
      assert.ok(dns.queries.includes(`A ${rev(C.reject)}.listed.test`));
    });

    test('tempfail: 450 4.7.1 at RCPT', async () => {
      const r = await talk(t, C.tempfail, ['alice@pochta.test']);
      assert.equal(r.rcpt[0], '450 4.7.1 Try again later: client [127.0.0.3] listed at soft.test');
    });

    test('quarantine: accepted, delivered to the user\'s Junk folder, not INBOX', async () => {
      const r = await talk(t, C.quarantine, ['alice@pochta.test']);
      assert.match(r.data ?? '', /^250 /);
      const [tx] = txLog(t, C.quarantine);
      assert.equal(tx?.outcome, 'quarantined');
      const junk = await readInbox(t.dataDir, 'alice@pochta.test', 'Junk');
      assert.equal(junk.filter((m) => m.includes('[127.0.0.4]')).length, 1);
      assert.equal((await readInbox(t.dataDir, 'alice@pochta.test')).filter((m) => m.includes('[127.0.0.4]')).length, 0);
    });

    test('tag: delivered with one X-Policy-Check line per list, naming list, score and code', async () => {
      await talk(t, C.tag, ['alice@pochta.test']);
      const m = (await readInbox(t.dataDir, 'alice@pochta.test')).find((x) => x.includes('[127.0.0.5]'));
      assert.ok(m);
      assert.match(m, /^X-Policy-Check: dnsbl\/tag-a\.test=listed score=3 \(127\.0\.0\.2\)\r$/m);
      assert.match(m, /^X-Policy-Check: dnsbl\/tag-b\.test=listed score=1\.5 \(127\.0\.0\.4\)\r$/m);
    });

    test('ignore: delivered untouched; the evidence is in the transaction log only', async () => {
      await talk(t, C.ignore, ['alice@pochta.test']);
      const m = (await readInbox(t.dataDir, 'alice@pochta.test')).find((x) => x.includes('[127.0.0.6]'));
      assert.ok(m);
      assert.doesNotMatch(m, /X-Policy-Check/);
      assert.deepEqual(txLog(t, C.ignore)[0]?.evidence, [{ plugin: 'dnsbl', check: 'quiet.test', result: 'listed', score: 2, reason: '127.0.0.2', action: 'ignore' }]);
    });

    test('a list answering 127.255.255.254 (query refused) is ignored and logged as a warning, not obeyed', async () => {
      const r = await talk(t, C.refused, ['alice@pochta.test']);
      assert.match(r.rcpt[0] ?? '', /^250 /);
      const warn = t.logs.find((l) => l.event === 'dnsbl.zone_unusable' && l.remote === C.refused);
      assert.equal(warn?.level, 40);
      assert.equal(warn?.zone, 'listed.test');
      assert.equal(warn?.status, 'refused');
      assert.deepEqual(warn?.codes, ['127.255.255.254']);
    });

    test('a list that does not answer within budgetMs is ignored with a warning', async () => {
      const r = await talk(t, C.slow, ['alice@pochta.test']);
      assert.match(r.rcpt[0] ?? '', /^250 /);
      const warn = t.logs.find((l) => l.event === 'dnsbl.zone_unusable' && l.remote === C.slow);
      assert.equal(warn?.zone, 'listed.test');
      assert.equal(warn?.status, 'timeout');
    });

    test('allow-listed: the block list is not obeyed; evidence "allowlisted"', async () => {
      const r = await talk(t, C.allowed, ['alice@pochta.test']);
      assert.match(r.rcpt[0] ?? '', /^250 /);
      assert.deepEqual(txLog(t, C.allowed)[0]?.evidence, [{ plugin: 'dnsbl', check: 'wl.test', result: 'allowlisted', reason: '127.0.10.2' }]);
    });

    test('an answer outside the zone\'s returnCodes is not a listing; a clean client is not touched', async () => {
      for (const client of [C.otherCode, C.clean]) {
        const r = await talk(t, client, ['alice@pochta.test']);
        assert.match(r.rcpt[0] ?? '', /^250 /, client);
        assert.equal(txLog(t, client)[0]?.evidence, undefined, client);
      }
    });

    test('the server\'s DNS cache: further connections from a client ask the list nothing new', async () => {
      for (let i = 0; i < 3; i++) await talk(t, C.cached, ['alice@pochta.test']);
      assert.equal(dns.queries.filter((q) => q === `A ${rev(C.cached)}.tag-a.test`).length, 1);
      const tagged = (await readInbox(t.dataDir, 'alice@pochta.test')).filter((m) => m.includes('[127.0.0.12]') && /X-Policy-Check: dnsbl\/tag-a\.test=listed/.test(m));
      assert.equal(tagged.length, 3);
    });

    test('authenticated submission from a listed address is accepted', async () => {
      const r = await send({ port: t.port('submission'), starttls: true, auth: { user: 'alice@pochta.test', pass: 'alice password 1' }, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: MSG });
      assert.match(r.response, /^250 /);
    });
  });

  describe('rejectAt connect', () => {
    let t: Server;
    before(async () => {
      t = await server({
        zones: [
          { zone: 'listed.test', returnCodes: codes },
          { zone: 'soft.test', returnCodes: codes, action: 'tempfail' },
          { zone: 'anycode.test' },
          { zone: 'six.test', returnCodes: codes },
        ],
        rejectAt: 'connect',
      });
    });
    after(async () => t.close());

    test('reject: the greeting is 554 5.7.1 naming the list, then the connection closes', async () => {
      const r = await talk(t, C.reject, []);
      assert.equal(r.greeting, '554 5.7.1 Service unavailable; client [127.0.0.2] listed at listed.test');
      assert.equal(r.closed, true);
    });

    test('tempfail: 421 4.7.1, then the connection closes', async () => {
      const r = await talk(t, C.tempfail, []);
      assert.equal(r.greeting, '421 4.7.1 Service temporarily unavailable; client [127.0.0.3] listed at soft.test');
      assert.equal(r.closed, true);
    });

    test('default return codes: any 127.0.0.0/8 answer counts (anycode.test answers 127.0.0.20)', async () => {
      const r = await talk(t, C.otherCode, []);
      assert.equal(r.greeting, '554 5.7.1 Service unavailable; client [127.0.0.10] listed at anycode.test');
    });

    test('IPv6 client over ::1: the query is 32 reversed nibbles, and the listing refuses', async () => {
      const r = await talk(t, '::1', [], { host: '::1', port: t.port('mx6') });
      assert.equal(r.greeting, '554 5.7.1 Service unavailable; client [::1] listed at six.test');
      assert.ok(dns.queries.includes(`A ${rev('::1')}.six.test`));
      assert.equal(rev('::1').split('.').length, 32);
    });

    test('a clean client gets the greeting', async () => {
      const r = await talk(t, C.clean, ['alice@pochta.test']);
      assert.match(r.greeting, /^220 /);
      assert.match(r.rcpt[0] ?? '', /^250 /);
    });
  });
});
