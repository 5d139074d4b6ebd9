/**
 * SpamAssassin over real SMTP: a real spamd (Debian's rules, private instance, local tests only)
 * for GTUBE and ham, every action option, score overrides, spamd down, slow and talking
 * nonsense, the size limit, the unix socket and submitted mail.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../core/testing/redis-server.ts';
import { gtube } from '../../core/testing/rspamd.ts';
import { startSpamd, type TestSpamd } from '../../core/testing/spamd.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { ALICE, deliver as deliverWithin, findBySubject as find, policyServer, type TestServer as Server } from '../../test/helpers/policy-server.ts';

const server = (spamassassin: Record<string, unknown>) => policyServer('spamassassin', spamassassin);
/** spamd scans slowly on a busy machine: up to a minute for the reply to the end of DATA. */
const deliver = (port: number, body: string) => deliverWithin(port, body, 60_000);

const msg = (subject: string, text: string) =>
  `Subject: ${subject}\r\nFrom: a@remote.test\r\nTo: alice@pochta.test\r\nMessage-ID: <${subject.replace(/\W/g, '')}.1234567890@remote.test>\r\nDate: Fri, 27 Nov 2026 21:00:00 +0000\r\n\r\n${text}\r\n`;
const HAM = 'Shall we have lunch tomorrow at noon? The usual place is fine.';
const evidenceOf = (s: Server) => s.logs
  .filter((l) => l.event === 'smtp.transaction')
  .flatMap((l) => ((l.evidence ?? []) as Array<{ plugin: string; result: string; score?: number; action?: string; reason?: string }>).filter((e) => e.plugin === 'spamassassin'));
const TEMP = '451 4.3.0 Temporary local problem, please try again later';

describe('spamassassin with a real spamd', () => {
  let spamd: TestSpamd;
  before(async () => {
    spamd = await startSpamd();
  });
  after(async () => spamd.stop());

  test('default action tag: GTUBE delivered with X-Spam-Flag and X-Spam-Status; ham with "No" and evidence', async () => {
    const s = await server({ port: spamd.port });
    try {
      assert.match(await deliver(s.port('mx'), `X-Spam-Status: No, forged\r\n${msg('gtube', gtube())}`), /^250 /);
      const m = await waitFor(() => find(s, 'gtube'), 20_000, 'tagged spam');
      assert.equal(m.match(/^X-Spam-Status: /gm)?.length, 1, 'a forged status header from outside is removed');
      assert.match(m, /^X-Spam-Status: Yes, score=\d{3,4}\.\d required=5\.0 tests=[A-Z0-9_,]*GTUBE/m);
      assert.match(m, /^X-Spam-Flag: YES\r$/m);
      assert.doesNotMatch(m, /X-Policy-Check/, 'the tag is our own headers, not the generic line naming the plugin');
      assert.match(await deliver(s.port('mx'), msg('ham', HAM)), /^250 /);
      const h = await waitFor(() => find(s, 'ham'), 20_000, 'ham');
      assert.match(h, /^X-Spam-Status: No, score=-?\d+\.\d required=5\.0 tests=/m);
      assert.doesNotMatch(h, /X-Spam-Flag|X-Policy-Check/);
      assert.doesNotMatch(h + m, /spamassassin|spamd/i, 'no software name in headers');
      const ev = evidenceOf(s);
      assert.deepEqual(ev.map((e) => [e.result, e.action]), [['spam', undefined], ['ham', undefined]]);
      assert.ok(s.logs.some((l) => l.event === 'spamassassin.scanned' && l.action === 'tag'));
      assert.ok((ev[0]?.score ?? 0) >= 900);
      assert.match(ev[0]?.reason ?? '', /\bGTUBE\b/);
    } finally {
      await s.close();
    }
  });

  test('actions reject (550 5.7.1), tempfail (451 4.7.1), quarantine (Junk), ignore (evidence only)', async () => {
    const rej = await server({ port: spamd.port, action: 'reject' });
    const tf = await server({ port: spamd.port, action: 'tempfail' });
    const q = await server({ port: spamd.port, action: 'quarantine' });
    const ign = await server({ port: spamd.port, action: 'ignore' });
    try {
      assert.match(await deliver(rej.port('mx'), msg('r', gtube())), /^550 5\.7\.1 Message refused as spam \(score \d{3,4}\.\d\)$/);
      assert.match(await deliver(rej.port('mx'), msg('r-ham', HAM)), /^250 /, 'ham still passes');
      assert.equal(await deliver(tf.port('mx'), msg('t', gtube())), '451 4.7.1 Message deferred by the spam filter, please try again later');
      assert.match(await deliver(q.port('mx'), msg('q', gtube())), /^250 /);
      const junk = await waitFor(() => find(q, 'q', 'Junk'), 20_000, 'Junk');
      assert.match(junk, /^X-Spam-Flag: YES\r$/m);
      assert.equal(await find(q, 'q'), undefined);
      assert.match(await deliver(ign.port('mx'), msg('i', gtube())), /^250 /);
      const ignored = await waitFor(() => find(ign, 'i'), 20_000, 'ignored');
      assert.doesNotMatch(ignored, /X-Policy-Check/);
      assert.match(ignored, /^X-Spam-Status: Yes/m);
    } finally {
      await Promise.all([rej.close(), tf.close(), q.close(), ign.close()]);
    }
  });

  test('score overrides: rejectScore refuses above it even with action tag; spamScore makes ham spam; over the unix socket', async () => {
    const hard = await server({ socket: spamd.socket, rejectScore: 15 });
    const low = await server({ socket: spamd.socket, spamScore: -100, scoreFactor: 0.5 });
    try {
      assert.match(await deliver(hard.port('mx'), msg('hard', gtube())), /^550 5\.7\.1 Message refused as spam/);
      assert.match(await deliver(low.port('mx'), msg('low', HAM)), /^250 /);
      const m = await waitFor(() => find(low, 'low'), 20_000, 'low');
      assert.match(m, /^X-Spam-Status: Yes, score=-?\d+\.\d required=-100\.0/m);
      assert.match(m, /^X-Spam-Flag: YES\r$/m);
      await deliver(low.port('mx'), msg('low2', gtube()));
      const spam = evidenceOf(low).filter((e) => (e.score ?? 0) > 100);
      assert.ok(spam.length === 1 && (spam[0]?.score ?? 0) < 600, `score halved: ${String(spam[0]?.score)}`);
    } finally {
      await Promise.all([hard.close(), low.close()]);
    }
  });

  test('a 450 KB message is streamed whole under the default maxSize (spamd answers only after Content-length bytes)', async () => {
    const s = await server({ port: spamd.port, action: 'reject' });
    try {
      const big = msg('large', `${gtube()}\r\n${`${'y'.repeat(898)}\r\n`.repeat(500)}`);
      assert.ok(big.length > 450_000 && big.length < 512_000);
      assert.match(await deliver(s.port('mx'), big), /^550 5\.7\.1 Message refused as spam/);
    } finally {
      await s.close();
    }
  });

  test('maxSize: a larger message is accepted unscanned; submitted mail is scanned, or skipped with authenticated: skip', async () => {
    const s = await server({ port: spamd.port, maxSize: 2048, action: 'reject' });
    const skip = await server({ port: spamd.port, action: 'reject', authenticated: 'skip' });
    const auth = ALICE;
    try {
      const big = msg('big', `${'x'.repeat(70)}\r\n`.repeat(60) + gtube());
      assert.match(await deliver(s.port('mx'), big), /^250 /);
      const m = await waitFor(() => find(s, 'big'), 20_000, 'big');
      assert.doesNotMatch(m, /X-Spam-Status/);
      assert.deepEqual(evidenceOf(s).map((e) => e.result), ['unscanned']);
      await assert.rejects(
        send({ port: s.port('submissions'), secure: true, auth, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: msg('out', gtube()) }),
        (e: { response?: string }) => /^550 5\.7\.1 Message refused as spam/.test(e.response ?? ''),
      );
      const ok = await send({ port: skip.port('submissions'), secure: true, auth, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: msg('out2', gtube()) });
      assert.match(ok.response, /^250 /);
      assert.deepEqual(evidenceOf(skip), []);
    } finally {
      await Promise.all([s.close(), skip.close()]);
    }
  });
});

describe('spamassassin when spamd is unavailable', () => {
  test('down: accepted with evidence "unavailable" and a warning by default; onUnavailable tempfail answers 451 4.3.0', async () => {
    const port = await freePort();
    const open = await server({ port, action: 'reject' });
    const tf = await server({ port, onUnavailable: 'tempfail' });
    try {
      assert.match(await deliver(open.port('mx'), msg('down', gtube())), /^250 /);
      await waitFor(() => find(open, 'down'), 10_000, 'fail-open delivery');
      assert.deepEqual(evidenceOf(open).map((e) => e.result), ['unavailable']);
      assert.ok(open.logs.some((l) => l.event === 'spamassassin.unavailable'));
      assert.equal(await deliver(tf.port('mx'), msg('down2', HAM)), TEMP);
    } finally {
      await Promise.all([open.close(), tf.close()]);
    }
  });

  test('an error reply, a reply without a verdict and a silent server count as unavailable', async () => {
    const answers = ['SPAMD/1.0 76 Bad header line: (Content-length mismatch)\r\n', 'SPAMD/1.1 0 EX_OK\r\nContent-length: 0\r\n\r\n'];
    const sockets = new Set<net.Socket>();
    // Answers once the client has sent everything and half-closed, as spamd does.
    const fake = net.createServer({ allowHalfOpen: true }, (c) => {
      sockets.add(c);
      const a = answers.shift();
      c.resume();
      c.once('end', () => {
        if (a) c.end(a);
      });
      c.on('error', () => undefined);
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    const s = await server({ port: (fake.address() as net.AddressInfo).port, onUnavailable: 'tempfail', scanTimeoutMs: 300 });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await deliver(s.port('mx'), msg(`bad${i}`, HAM)), TEMP);
      const reasons = s.logs.filter((l) => l.event === 'spamassassin.unavailable').map((l) => String(l.error));
      assert.match(reasons[0] ?? '', /spamd error 76/);
      assert.match(reasons[1] ?? '', /no Spam header/);
      assert.match(reasons[2] ?? '', /no verdict within 300 ms/);
    } finally {
      await s.close();
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => fake.close(() => r()));
    }
  });
});
