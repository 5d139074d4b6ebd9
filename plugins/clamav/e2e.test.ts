/**
 * ClamAV over real SMTP: a real clamd with test signatures, every action, clamd down and slow,
 * size limits, submitted mail.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eicar, startClamd, TEST_SIGNATURES, type TestClamd } from '../../core/testing/clamd.ts';
import { freePort } from '../../core/testing/redis-server.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { ALICE, deliver, findBySubject as find, policyServer, startSilentServer } from '../../test/helpers/policy-server.ts';
import { mimeWithAttachment } from './test-fixtures.ts';

const server = (clamav: Record<string, unknown>) => policyServer('clamav', clamav);

const plain = (subject: string, text: string | Buffer) => `Subject: ${subject}\r\nFrom: a@remote.test\r\n\r\n${text.toString('latin1')}\r\n`;
const NAME = `(${TEST_SIGNATURES.hdb}|${TEST_SIGNATURES.ndb})\\.UNOFFICIAL`;

describe('clamav with a real clamd', () => {
  let clamd: TestClamd;
  before(async () => {
    clamd = await startClamd();
  });
  after(async () => clamd.stop());

  test('default action reject: EICAR plain and as a base64 attachment get 554 5.7.1 naming the virus; a clean message gets X-Virus-Scan: clean', async () => {
    const s = await server({ port: clamd.port });
    try {
      assert.match(await deliver(s.port('mx'), plain('virus', eicar())), new RegExp(`^554 5\\.7\\.1 Message contains a virus \\(${NAME}\\)$`));
      assert.equal(await deliver(s.port('mx'), mimeWithAttachment(eicar())), `554 5.7.1 Message contains a virus (${TEST_SIGNATURES.ndb}.UNOFFICIAL)`);
      assert.match(await deliver(s.port('mx'), `X-Virus-Scan: clean\r\n${mimeWithAttachment(Buffer.from('harmless'))}`.replace('Subject: attachment', 'Subject: clean1')), /^250 2\.0\.0 /);
      const m = await waitFor(() => find(s, 'clean1'), 10_000, 'clean delivery');
      assert.equal(m.match(/^X-Virus-Scan: .*$/gm)?.length, 1, 'a forged header from outside is removed');
      assert.match(m, /^X-Virus-Scan: clean\r$/m);
      assert.equal(await find(s, 'virus'), undefined);
      assert.ok(s.logs.some((l) => l.event === 'clamav.infected'));
    } finally {
      await s.close();
    }
  });

  test('over the unix socket, and for submitted mail too', async () => {
    const s = await server({ socket: clamd.socket });
    try {
      await assert.rejects(
        send({ port: s.port('submissions'), secure: true, auth: ALICE, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: plain('sub', eicar()) }),
        (e: { response?: string }) => /^554 5\.7\.1 Message contains a virus/.test(e.response ?? ''),
      );
      const ok = await send({ port: s.port('submissions'), secure: true, auth: ALICE, from: 'alice@pochta.test', to: ['alice@pochta.test'], raw: plain('sub-clean', 'hello') });
      assert.match(ok.response, /^250 /);
    } finally {
      await s.close();
    }
  });

  test('actions quarantine (Junk), tag (X-Policy-Check), ignore (delivered, marked), tempfail (451 4.7.1)', async () => {
    const q = await server({ port: clamd.port, action: 'quarantine' });
    const tag = await server({ port: clamd.port, action: 'tag' });
    const ign = await server({ port: clamd.port, action: 'ignore' });
    const temp = await server({ port: clamd.port, action: 'tempfail' });
    try {
      assert.match(await deliver(q.port('mx'), plain('q', eicar())), /^250 /);
      const junk = await waitFor(() => find(q, 'q', 'Junk'), 10_000, 'Junk');
      assert.match(junk, new RegExp(`^X-Virus-Scan: infected \\(${NAME}\\)\\r$`, 'm'));
      assert.equal(await find(q, 'q'), undefined);

      assert.match(await deliver(tag.port('mx'), plain('t', eicar())), /^250 /);
      const tagged = await waitFor(() => find(tag, 't'), 10_000, 'tagged');
      assert.match(tagged, new RegExp(`^X-Policy-Check: clamav/virus=infected \\(${NAME}\\)\\r$`, 'm'));

      assert.match(await deliver(ign.port('mx'), plain('i', eicar())), /^250 /);
      const ignored = await waitFor(() => find(ign, 'i'), 10_000, 'ignored');
      assert.doesNotMatch(ignored, /X-Policy-Check/);
      assert.match(ignored, /^X-Virus-Scan: infected/m);

      assert.match(await deliver(temp.port('mx'), plain('tf', eicar())), new RegExp(`^451 4\\.7\\.1 Message contains a virus \\(${NAME}\\), not accepted$`));
    } finally {
      await Promise.all([q.close(), tag.close(), ign.close(), temp.close()]);
    }
  });

  test('maxScanBytes: a larger message is accepted unscanned with a header (default) or tempfailed', async () => {
    const acc = await server({ port: clamd.port, maxScanBytes: 2048 });
    const tf = await server({ port: clamd.port, maxScanBytes: 2048, onOversize: 'tempfail' });
    try {
      const big = plain('big', `${'x'.repeat(70)}\r\n`.repeat(60) + eicar().toString('latin1'));
      assert.match(await deliver(acc.port('mx'), big), /^250 /);
      const m = await waitFor(() => find(acc, 'big'), 10_000, 'big');
      assert.match(m, /^X-Virus-Scan: not scanned \(too large\)\r$/m);
      assert.equal(await deliver(tf.port('mx'), big), '451 4.3.0 Message could not be scanned, please try again later');
    } finally {
      await Promise.all([acc.close(), tf.close()]);
    }
  });
});

describe('clamav when clamd is down or slow', () => {
  test('down: 451 4.3.0 by default; onUnavailable accept delivers with "not scanned (scanner unavailable)"', async () => {
    const port = await freePort();
    const tf = await server({ port });
    const acc = await server({ port, onUnavailable: 'accept' });
    try {
      assert.equal(await deliver(tf.port('mx'), plain('down', 'hello')), '451 4.3.0 Temporary local problem, please try again later');
      assert.ok(tf.logs.some((l) => l.event === 'clamav.unavailable'));
      assert.match(await deliver(acc.port('mx'), plain('down2', 'hello')), /^250 /);
      const m = await waitFor(() => find(acc, 'down2'), 10_000, 'unscanned delivery');
      assert.match(m, /^X-Virus-Scan: not scanned \(scanner unavailable\)\r$/m);
      assert.doesNotMatch(m, /clam/i, 'no software name in headers');
    } finally {
      await Promise.all([tf.close(), acc.close()]);
    }
  });

  test('slow (accepts, never answers): 451 4.3.0 after the scan timeout', async () => {
    const silent = await startSilentServer();
    const s = await server({ port: silent.port, scanTimeoutMs: 300 });
    try {
      assert.equal(await deliver(s.port('mx'), plain('slow', 'hello')), '451 4.3.0 Temporary local problem, please try again later');
    } finally {
      await s.close();
      await silent.close();
    }
  });
});
