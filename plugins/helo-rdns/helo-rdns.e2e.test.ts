/**
 * helo-rdns end to end: real servers and a real DNS server. Each scenario is its own client
 * address (127.0.0.x, the socket's local address) with its own PTR records, so a few servers
 * cover every check and action without sharing a cached answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../core/dns.ts';
import { ptrName } from '../../core/dns/reverse-name.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startDnsServer, type TestDnsServer } from '../../core/testing/dns-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox } from '../../test/helpers/mail.ts';
import heloRdns, { FCRDNS_SLOT } from './index.ts';

const C = {
  good: '127.0.0.2', // PTR good.test -> 127.0.0.2
  noPtr: '127.0.0.3',
  liar: '127.0.0.4', // PTR liar.test -> 192.0.2.7
  silent: '127.0.0.5', // the PTR query is never answered
  core: '127.0.0.6', // PTR core.test -> 127.0.0.6, with smtp.reverseDns on
  harness: '127.0.0.7', // no PTR at all; the harness gives a clientHostname
} as const;

const ZONE = {
  [ptrName(C.good)!]: { PTR: ['good.test'] },
  'good.test': { A: [C.good] },
  [ptrName(C.liar)!]: { PTR: ['liar.test'] },
  'liar.test': { A: ['192.0.2.7'] },
  [ptrName(C.silent)!]: { silent: true },
  [ptrName(C.core)!]: { PTR: ['core.test'] },
  'core.test': { A: [C.core] },
  'harness.test': { A: [C.harness] },
  'six.good.test': { AAAA: ['::1'] },
  [ptrName('::1')!]: { PTR: ['six.good.test'] },
};

describe('helo-rdns end to end', () => {
  let dns: TestDnsServer;
  before(async () => {
    dns = await startDnsServer(ZONE);
  });
  after(async () => dns.close());

  async function server(cfg: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
    return startTestServer({
      config: {
        dns: { servers: [dns.server], timeoutMs: 3000, tries: 1 },
        plugins: { 'relay-acl': {}, 'helo-rdns': { checkPrivate: true, lookupTimeoutMs: 2000, ...cfg }, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} },
        ...extra,
      },
      setup: (dir) => addUser(dir, 'alice@pochta.test', 'alice password 1'),
    });
  }
  type Server = Awaited<ReturnType<typeof server>>;

  /**
   * One message from `client` after the given EHLOs (the last one counts); returns the EHLO
   * replies and the delivered message (found by a unique Subject), INBOX or Junk.
   */
  async function mail(t: Server, client: string, ehlos: string[]) {
    const subject = `helo ${client} ${ehlos.join(' ')} ${Math.random().toString(36).slice(2)}`;
    const d = await Dialogue.connect(t.port('mx'), { localAddress: client });
    await d.reply();
    const replies: string[] = [];
    for (const e of ehlos) replies.push(await d.cmd(`EHLO ${e}`));
    assert.match(await d.cmd('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
    assert.match(await d.cmd('RCPT TO:<alice@pochta.test>'), /^250 /);
    assert.match(await d.cmd('DATA'), /^354 /);
    assert.match(await d.cmd(`Subject: ${subject}\r\n\r\nhi\r\n.`), /^250 /);
    await d.cmd('QUIT');
    d.close();
    const find = async (folder = '') => (await readInbox(t.dataDir, 'alice@pochta.test', folder)).find((m) => m.includes(subject));
    return { replies, inbox: await find(), junk: await find('Junk') };
  }
  const policyLines = (m: string | undefined) => (m ?? '').split('\r\n').filter((l) => l.startsWith('X-Policy-Check: helo-rdns/')).map((l) => l.slice('X-Policy-Check: '.length));
  const txEvidence = (t: Server, client: string) => t.logs.filter((l) => l.event === 'smtp.transaction' && l.remote === client).at(-1)?.evidence as unknown;

  describe('default actions (tag), literalMismatch: ignore', () => {
    let t: Server;
    before(async () => {
      t = await server({ ptrMismatch: { score: 4 }, literalMismatch: { action: 'ignore' } });
    });
    after(async () => t.close());

    test('confirmed rDNS and a good HELO: no findings; the result is logged and in the slot', async () => {
      const { inbox } = await mail(t, C.good, ['good.test']);
      assert.ok(inbox);
      assert.deepEqual(policyLines(inbox), []);
      const l = t.logs.find((x) => x.event === 'helo-rdns.fcrdns' && x.remote === C.good);
      assert.equal(l?.result, 'pass');
      assert.equal(l?.hostname, 'good.test');
    });

    test('no PTR: fcrdns=none tagged with its score', async () => {
      const { inbox } = await mail(t, C.noPtr, ['good.test']);
      assert.deepEqual(policyLines(inbox), ['helo-rdns/fcrdns=none score=1.5 (no PTR name for 127.0.0.3)']);
    });

    test('a PTR name that does not lead back: fcrdns=fail', async () => {
      const { inbox } = await mail(t, C.liar, ['good.test']);
      assert.deepEqual(policyLines(inbox), ['helo-rdns/fcrdns=fail score=4 (liar.test does not resolve to 127.0.0.4)']);
    });

    test('HELO syntax, bare IP, our own name: each its own evidence and header', async () => {
      const cases: Array<[string, string]> = [
        ['localhost', 'helo-rdns/helo-syntax=invalid score=2 (HELO localhost: not a fully qualified domain name)'],
        ['127.0.0.2', 'helo-rdns/helo-bare-ip=bare-ip score=2 (HELO 127.0.0.2 without brackets (RFC 5321 section 4.1.3))'],
        ['mail.example.net', 'helo-rdns/helo-ours=impersonation score=5 (HELO mail.example.net is this server\'s own name or domain)'],
        ['pochta.test', 'helo-rdns/helo-ours=impersonation score=5 (HELO pochta.test is this server\'s own name or domain)'],
      ];
      for (const [helo, line] of cases) {
        const { inbox } = await mail(t, C.good, [helo]);
        assert.deepEqual(policyLines(inbox), [line], helo);
      }
      const { inbox } = await mail(t, C.good, ['[127.0.0.2]']);
      assert.deepEqual(policyLines(inbox), [], 'the client\'s own literal is fine');
    });

    test('ignore: a wrong address literal is only in the transaction log', async () => {
      const { inbox } = await mail(t, C.good, ['[192.0.2.1]']);
      assert.deepEqual(policyLines(inbox), []);
      assert.deepEqual(txEvidence(t, C.good), [{ plugin: 'helo-rdns', check: 'helo-literal', result: 'mismatch', score: 3, reason: 'HELO [192.0.2.1] from 127.0.0.2', action: 'ignore' }]);
    });

    test('a repeated EHLO replaces the earlier HELO findings', async () => {
      const { inbox } = await mail(t, C.good, ['localhost', 'good.test']);
      assert.deepEqual(policyLines(inbox), []);
    });

    test('a reverse zone that does not answer: fcrdns=temperror, recorded with action ignore', async () => {
      const { replies, inbox } = await mail(t, C.silent, ['good.test']);
      assert.match(replies[0] ?? '', /^250/);
      assert.deepEqual(policyLines(inbox), []);
      assert.deepEqual(txEvidence(t, C.silent), [{ plugin: 'helo-rdns', check: 'fcrdns', result: 'temperror', score: 0, action: 'ignore' }]);
    });
  });

  describe('reject, tempfail and quarantine where configured', () => {
    let t: Server;
    before(async () => {
      t = await server({
        syntax: { action: 'reject' }, bareIp: { action: 'reject' }, impersonation: { action: 'reject' },
        literalMismatch: { action: 'tempfail' }, ptrMismatch: { action: 'reject' }, noPtr: { action: 'quarantine' },
      });
    });
    after(async () => t.close());

    test('exact EHLO replies; the client may try again with a proper name', async () => {
      const d = await Dialogue.connect(t.port('mx'), { localAddress: C.good });
      await d.reply();
      assert.equal(await d.cmd('EHLO localhost'), '501 5.5.2 Invalid HELO: give your fully qualified host name or an address literal');
      assert.equal(await d.cmd('HELO 127.0.0.2'), '501 5.5.2 Invalid HELO: an address must be written as a literal, e.g. [192.0.2.1]');
      assert.equal(await d.cmd('EHLO mail.example.net'), '550 5.7.1 HELO with this server\'s own name or domain refused');
      assert.equal(await d.cmd('EHLO [192.0.2.1]'), '450 4.7.1 HELO address literal is not your address [127.0.0.2]; try again later');
      assert.match(await d.cmd('EHLO good.test'), /^250[ -]/);
      assert.match(await d.cmd('MAIL FROM:<sender@elsewhere.test>'), /^250 /);
      await d.cmd('QUIT');
      d.close();
    });

    test('ptrMismatch reject: 550 5.7.25 to the EHLO', async () => {
      const d = await Dialogue.connect(t.port('mx'), { localAddress: C.liar });
      await d.reply();
      assert.equal(await d.cmd('EHLO good.test'), '550 5.7.25 Reverse DNS validation failed for [127.0.0.4]');
      await d.cmd('QUIT');
      d.close();
    });

    test('noPtr quarantine: the message goes to Junk', async () => {
      const { inbox, junk } = await mail(t, C.noPtr, ['good.test']);
      assert.equal(inbox, undefined);
      assert.ok(junk);
    });

    test('a temperror is never acted on, even with reject configured', async () => {
      const { replies, inbox } = await mail(t, C.silent, ['good.test']);
      assert.match(replies[0] ?? '', /^250/);
      assert.ok(inbox);
    });
  });

  test('with smtp.reverseDns on, the core\'s name is used: one PTR query in all', async () => {
    const t = await server({}, { smtp: { reverseDns: true } });
    try {
      const { inbox } = await mail(t, C.core, ['core.test']);
      assert.deepEqual(policyLines(inbox), []);
      assert.match(inbox ?? '', /^Received: from core\.test \(core\.test \[127\.0\.0\.6\]\)/m);
      assert.equal(dns.queries.filter((q) => q === `PTR ${ptrName(C.core)}`).length, 1);
      assert.equal(t.logs.find((x) => x.event === 'helo-rdns.fcrdns' && x.remote === C.core)?.result, 'pass');
    } finally {
      await t.close();
    }
  });

  test('with dnsbl, the PTR query goes out with the list query, not after its answer', async () => {
    const t = await startTestServer({
      config: {
        dns: { servers: [dns.server], timeoutMs: 3000, tries: 1 },
        plugins: {
          'relay-acl': {}, dnsbl: { zones: [{ zone: 'bl.dnsbl.test' }], checkPrivate: true }, 'helo-rdns': { checkPrivate: true, lookupTimeoutMs: 2000 },
          'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {},
        },
      },
      setup: (dir) => addUser(dir, 'alice@pochta.test', 'alice password 1'),
    });
    try {
      const from = dns.queries.length;
      const { inbox } = await mail(t, C.good, ['good.test']);
      assert.deepEqual(policyLines(inbox), []);
      const asked = dns.queries.slice(from);
      const ptr = asked.indexOf(`PTR ${ptrName(C.good)}`);
      const list = asked.indexOf('A 2.0.0.127.bl.dnsbl.test');
      // Before, helo-rdns started its lookup only after dnsbl had its answer: PTR came second.
      assert.ok(ptr >= 0 && list >= 0 && ptr < list, JSON.stringify(asked));
      assert.equal(t.logs.find((x) => x.event === 'helo-rdns.fcrdns' && x.remote === C.good)?.result, 'pass');
    } finally {
      await t.close();
    }
  });

  test('plugin harness: a known clientHostname skips the PTR lookup; IPv6 ::1 confirmed through AAAA', async () => {
    const h = await createPluginHarness({ plugins: [[heloRdns, { checkPrivate: true }]], dns: createResolver({ servers: [dns.server], timeoutMs: 3000, tries: 1 }) });
    try {
      const before = dns.queries.length;
      const s = h.makeSession({ remoteAddress: C.harness });
      s.clientHostname = 'harness.test';
      await h.hooks.smtp.connect.call(s, {}, s.callTrace());
      await h.hooks.smtp.helo.call(s, { verb: 'EHLO', host: 'harness.test' }, s.callTrace());
      assert.equal(s.slots.get(FCRDNS_SLOT)?.result, 'pass');
      assert.deepEqual(dns.queries.slice(before), ['A harness.test']);
      assert.deepEqual(s.evidence, []);

      const six = h.makeSession({ remoteAddress: '::1' });
      await h.hooks.smtp.helo.call(six, { verb: 'EHLO', host: '[IPv6:::1]' }, six.callTrace());
      assert.deepEqual(six.slots.get(FCRDNS_SLOT), { result: 'pass', hostname: 'six.good.test', names: ['six.good.test'] });
      assert.deepEqual(six.evidence, []);
    } finally {
      await h.close();
    }
  });

  test('private clients and submission listeners are skipped by default', async () => {
    const h = await createPluginHarness({ plugins: [[heloRdns, {}]], dns: createResolver({ servers: [dns.server], timeoutMs: 3000, tries: 1 }) });
    try {
      const before = dns.queries.length;
      for (const remoteAddress of ['127.0.0.1', '10.1.2.3', '192.168.1.1', 'fe80::1', '::1']) {
        const s = h.makeSession({ remoteAddress });
        await h.hooks.smtp.connect.call(s, {}, s.callTrace());
        await h.hooks.smtp.helo.call(s, { verb: 'EHLO', host: 'localhost' }, s.callTrace());
        assert.deepEqual(s.evidence, [], remoteAddress);
      }
      const sub = h.makeSession({ remoteAddress: '192.0.2.1', kind: 'submission' });
      await h.hooks.smtp.helo.call(sub, { verb: 'EHLO', host: 'localhost' }, sub.callTrace());
      assert.deepEqual(sub.evidence, []);
      assert.equal(dns.queries.length, before, 'no lookups at all');
    } finally {
      await h.close();
    }
  });
});
