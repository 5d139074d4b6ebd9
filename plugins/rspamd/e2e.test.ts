/**
 * rspamd over real SMTP: a real rspamd (Debian's rules, private instance) for every rspamd action
 * and every Pochta action option; rspamd down, slow and talking nonsense; size limit; submitted
 * mail with the User header.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../../core/testing/redis-server.ts';
import { gtube, RSPAMD_TEST, startRspamd, type TestRspamd } from '../../core/testing/rspamd.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { ALICE, deliver, findBySubject as find, policyServer, startSilentServer, type TestServer as Server } from '../../test/helpers/policy-server.ts';

const server = (rspamd: Record<string, unknown>) => policyServer('rspamd', rspamd);

const msg = (subject: string, text: string) =>
  `Subject: ${subject}\r\nFrom: a@remote.test\r\nTo: alice@pochta.test\r\nMessage-ID: <${subject.replace(/\W/g, '')}@remote.test>\r\nDate: Fri, 27 Nov 2026 21:00:00 +0000\r\n\r\n${text}\r\n`;
const HAM = 'Shall we have lunch tomorrow at noon? The usual place is fine.';
/** The evidence this plugin recorded in the transaction log line of the message with that reply. */
const evidenceOf = (s: Server) => s.logs
  .filter((l) => l.event === 'smtp.transaction')
  .flatMap((l) => ((l.evidence ?? []) as Array<{ plugin: string; result: string; score?: number; action?: string }>).filter((e) => e.plugin === 'rspamd'));

describe('rspamd with a real rspamd', () => {
  let rspamd: TestRspamd;
  before(async () => {
    rspamd = await startRspamd();
  });
  after(async () => rspamd.stop());

  test('defaults: GTUBE is refused 550 5.7.1 with rspamd\'s message; ham is delivered with its verdict header and evidence', async () => {
    const s = await server({ port: rspamd.port });
    try {
      assert.equal(await deliver(s.port('mx'), msg('spam', gtube())), '550 5.7.1 Message refused as spam: Gtube pattern');
      const forged = `X-Spam-Result: No, forged\r\nX-Spam-Flag: NO\r\nX-Spam: checked elsewhere\r\n${msg('ham', HAM)}`;
      assert.match(await deliver(s.port('mx'), forged), /^250 /);
      const m = await waitFor(() => find(s, 'ham'), 10_000, 'ham delivery');
      assert.equal(m.match(/^X-Spam-Result: /gm)?.length, 1, 'a forged verdict header from outside is removed');
      assert.match(m, /^X-Spam-Result: No, action=no action, score=-?\d+\.\d, required=15\.0, symbols=/m);
      assert.doesNotMatch(m, /X-Spam-Flag/);
      assert.match(m, /^X-Spam: checked elsewhere\r$/m, 'rspamd\'s milter edits apply only with milterHeaders');
      assert.doesNotMatch(m, /rspamd/i, 'no software name in headers');
      const ev = evidenceOf(s);
      assert.deepEqual(ev.map((e) => e.result), ['reject', 'no-action']);
      assert.equal(typeof ev[1]?.score, 'number');
      assert.ok((ev[0]?.score ?? 0) >= 15, 'the reject carries rspamd\'s score');
      assert.ok(s.logs.some((l) => l.event === 'rspamd.scanned'));
    } finally {
      await s.close();
    }
  });

  test('add header and rewrite subject are tagged: flag, verdict header, new Subject', async () => {
    const s = await server({ port: rspamd.port });
    try {
      assert.match(await deliver(s.port('mx'), msg('addheader', gtube('Y'))), /^250 /);
      const m = await waitFor(() => find(s, 'addheader'), 10_000, 'tagged');
      assert.match(m, /^X-Spam-Flag: YES\r$/m);
      assert.match(m, /^X-Spam-Result: Yes, action=add header, score=6\.0, required=15\.0/m);
      assert.doesNotMatch(m, /X-Policy-Check|rspamd/i, 'the tag is our own headers; nothing names the software');

      assert.match(await deliver(s.port('mx'), msg('rewrite', gtube('Z'))), /^250 /);
      const r = await waitFor(() => find(s, '*** SPAM *** rewrite'), 10_000, 'rewritten subject');
      assert.equal(r.match(/^Subject: /gm)?.length, 1, 'the old Subject is replaced, not duplicated');
      assert.match(r, /^X-Spam-Result: Yes, action=rewrite subject/m);
    } finally {
      await s.close();
    }
  });

  test('soft reject and greylist answer 451 4.7.1 (Settings-ID selects rspamd settings)', async () => {
    const s = await server({ port: rspamd.port });
    const g = await server({ port: rspamd.port, settingsId: RSPAMD_TEST.greylistSettings });
    try {
      assert.equal(await deliver(s.port('mx'), msg(`${RSPAMD_TEST.softRejectSubject} a`, HAM)), `451 4.7.1 Message deferred: ${RSPAMD_TEST.softRejectMessage}`);
      assert.equal(await deliver(g.port('mx'), msg('grey', HAM)), '451 4.7.1 Message deferred by the spam filter, please try again later');
      assert.deepEqual(evidenceOf(g).map((e) => e.result), ['greylist']);
    } finally {
      await Promise.all([s.close(), g.close()]);
    }
  });

  test('action options: reject→quarantine (Junk), reject→tempfail, reject→ignore, add header→reject', async () => {
    const q = await server({ port: rspamd.port, onReject: 'quarantine' });
    const tf = await server({ port: rspamd.port, onReject: 'tempfail' });
    const ign = await server({ port: rspamd.port, onReject: 'ignore' });
    const strict = await server({ port: rspamd.port, onAddHeader: 'reject' });
    try {
      assert.match(await deliver(q.port('mx'), msg('q', gtube())), /^250 /);
      const junk = await waitFor(() => find(q, 'q', 'Junk'), 10_000, 'Junk');
      assert.match(junk, /^X-Spam-Result: Yes, action=reject/m);
      assert.equal(await find(q, 'q'), undefined);

      assert.equal(await deliver(tf.port('mx'), msg('tf', gtube())), '451 4.7.1 Message deferred: Gtube pattern');

      assert.match(await deliver(ign.port('mx'), msg('ign', gtube())), /^250 /);
      const ignored = await waitFor(() => find(ign, 'ign'), 10_000, 'ignored');
      assert.doesNotMatch(ignored, /X-Policy-Check/);
      assert.match(ignored, /^X-Spam-Flag: YES\r$/m);
      assert.deepEqual(evidenceOf(ign).map((e) => [e.result, e.action]), [['reject', 'ignore']]);

      assert.equal(await deliver(strict.port('mx'), msg('strict', gtube('Y'))), '550 5.7.1 Message refused as spam: Gtube pattern');
    } finally {
      await Promise.all([q.close(), tf.close(), ign.close(), strict.close()]);
    }
  });

  test('score overrides: rejectScore above rspamd\'s turns its reject into a tag; tagScore tags ham; scoreFactor scales the evidence', async () => {
    const lax = await server({ port: rspamd.port, rejectScore: 100 });
    const eager = await server({ port: rspamd.port, tagScore: -50, scoreFactor: 2 });
    try {
      assert.match(await deliver(lax.port('mx'), msg('lax', gtube())), /^250 /);
      const m = await waitFor(() => find(lax, 'lax'), 10_000, 'lax');
      assert.match(m, /^X-Spam-Result: Yes, action=add header, score=15\.0, required=100\.0/m);

      assert.match(await deliver(eager.port('mx'), msg('eager', HAM)), /^250 /);
      const e = await waitFor(() => find(eager, 'eager'), 10_000, 'eager');
      assert.match(e, /^X-Spam-Flag: YES\r$/m);
      assert.match(e, /^X-Spam-Result: Yes, action=add header/m);
      await deliver(eager.port('mx'), msg('eager2', gtube()));
      const rejected = evidenceOf(eager).find((x) => x.result === 'reject');
      assert.ok((rejected?.score ?? 0) >= 30, `score doubled: ${String(rejected?.score)}`);
    } finally {
      await Promise.all([lax.close(), eager.close()]);
    }
  });

  test('over the unix socket; a message over maxSize is accepted unscanned', async () => {
    const s = await server({ socket: rspamd.socket, maxSize: 2048 });
    try {
      assert.equal(await deliver(s.port('mx'), msg('sock', gtube())), '550 5.7.1 Message refused as spam: Gtube pattern');
      const big = msg('big', `${'x'.repeat(70)}\r\n`.repeat(60) + gtube());
      assert.match(await deliver(s.port('mx'), big), /^250 /);
      const m = await waitFor(() => find(s, 'big'), 10_000, 'big');
      assert.doesNotMatch(m, /X-Spam-Result/);
      assert.deepEqual(evidenceOf(s).map((e) => e.result), ['reject', 'unscanned']);
    } finally {
      await s.close();
    }
  });

  test('a 3 MB message is streamed whole (GTUBE found, 550); milterHeaders applies rspamd\'s header removals', async () => {
    const s = await server({ port: rspamd.port, milterHeaders: true });
    try {
      // rspamd looks for GTUBE only in small text parts: a short text part, then a 3 MB attachment.
      const attachment = Buffer.alloc(2_300_000, 7).toString('base64').replace(/.{76}/g, '$&\r\n');
      const big = `Subject: huge\r\nFrom: a@remote.test\r\nTo: alice@pochta.test\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n`
        + `--b1\r\nContent-Type: text/plain\r\n\r\n${gtube()}\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n${attachment}\r\n--b1--\r\n`;
      assert.ok(big.length > 3_000_000);
      const reply = await deliver(s.port('mx'), big);
      // On a mismatch, say what the plugin recorded and logged (unscanned? rspamd's answer?).
      const why = () => JSON.stringify({ evidence: evidenceOf(s), log: s.logs.filter((l) => String(l.event ?? '').startsWith('rspamd') || l.plugin === 'rspamd').slice(-5) });
      assert.equal(reply, '550 5.7.1 Message refused as spam: Gtube pattern', why());
      assert.match(await deliver(s.port('mx'), `X-Spam: checked elsewhere\r\n${msg('milter', HAM)}`), /^250 /);
      const m = await waitFor(() => find(s, 'milter'), 10_000, 'milter');
      assert.doesNotMatch(m, /^X-Spam: /m, 'rspamd asks to remove X-Spam (its milter_headers default)');
    } finally {
      await s.close();
    }
  });

  test('submitted mail carries the User header (rspamd\'s authenticated settings then reject); authenticated: skip does not scan', async () => {
    const scan = await server({ port: rspamd.port });
    const skip = await server({ port: rspamd.port, authenticated: 'skip' });
    const auth = ALICE;
    try {
      await assert.rejects(
        send({ port: scan.port('submissions'), secure: true, auth, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: msg('out', HAM) }),
        (e: { response?: string }) => /^550 5\.7\.1 Message refused as spam/.test(e.response ?? ''),
      );
      assert.match(await deliver(scan.port('mx'), msg('in', HAM)), /^250 /, 'the same message unauthenticated passes');
      const ok = await send({ port: skip.port('submissions'), secure: true, auth, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: msg('out2', HAM) });
      assert.match(ok.response, /^250 /);
      assert.deepEqual(evidenceOf(skip), []);
    } finally {
      await Promise.all([scan.close(), skip.close()]);
    }
  });
});

describe('rspamd unavailable', () => {
  test('down: accepted with evidence "unavailable" and a warning by default; onUnavailable tempfail answers 451 4.3.0', async () => {
    const port = await freePort();
    const open = await server({ port });
    const tf = await server({ port, onUnavailable: 'tempfail' });
    try {
      assert.match(await deliver(open.port('mx'), msg('down', HAM)), /^250 /);
      await waitFor(() => find(open, 'down'), 10_000, 'fail-open delivery');
      assert.deepEqual(evidenceOf(open).map((e) => e.result), ['unavailable']);
      assert.ok(open.logs.some((l) => l.event === 'rspamd.unavailable'));
      assert.equal(await deliver(tf.port('mx'), msg('down2', HAM)), '451 4.3.0 Temporary local problem, please try again later');
    } finally {
      await Promise.all([open.close(), tf.close()]);
    }
  });

  test('a bad reply (not JSON, HTTP 500) and a silent server count as unavailable', async () => {
    const replies = ['{"action": 5}', 'not json'];
    const bad = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const body = replies.shift();
        if (body === undefined) {
          res.writeHead(500).end();
          return;
        }
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(body);
      });
    });
    await new Promise<void>((r) => bad.listen(0, '127.0.0.1', () => r()));
    const silent = await startSilentServer();
    const b = await server({ port: (bad.address() as net.AddressInfo).port, onUnavailable: 'tempfail' });
    const sl = await server({ port: silent.port, onUnavailable: 'tempfail', scanTimeoutMs: 300 });
    try {
      for (let i = 0; i < 3; i++) assert.equal(await deliver(b.port('mx'), msg(`bad${i}`, HAM)), '451 4.3.0 Temporary local problem, please try again later');
      const reasons = b.logs.filter((l) => l.event === 'rspamd.unavailable').map((l) => String(l.error));
      assert.match(reasons[0] ?? '', /not a verdict/);
      assert.match(reasons[1] ?? '', /not JSON/);
      assert.match(reasons[2] ?? '', /HTTP 500/);
      assert.equal(await deliver(sl.port('mx'), msg('slow', HAM)), '451 4.3.0 Temporary local problem, please try again later');
    } finally {
      await Promise.all([b.close(), sl.close()]);
      await silent.close();
      bad.closeAllConnections();
      await new Promise<void>((r) => bad.close(() => r()));
    }
  });
});
