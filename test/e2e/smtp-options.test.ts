import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import { generate } from 'selfsigned';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { readInbox, waitFor } from '../helpers/mail.ts';

const POLICY = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'policy-plugin.ts');

async function transaction(port: number, lines: { mail: string; rcpts: string[]; data: string }) {
  const d = await Dialogue.connect(port);
  await d.reply();
  await d.cmd('EHLO client.test');
  assert.match(await d.cmd(lines.mail), /^250 /);
  for (const r of lines.rcpts) assert.match(await d.cmd(r), /^250 /);
  assert.match(await d.cmd('DATA'), /^354 /);
  d.write(lines.data);
  const reply = await d.reply();
  await d.cmd('QUIT');
  d.close();
  return reply;
}

describe('SMTP options: normalised line endings, DSN parameters, configured TLS', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({
      config: {
        smtp: { bareLineEndings: 'normalize' },
        tls: { cert: 'tls/server.crt', key: 'tls/server.key' },
        plugins: { policy: { module: POLICY, acceptAll: 'opts.test' }, maildir: {} },
      },
      setup: async (dir) => {
        const pems = await generate([{ name: 'commonName', value: 'configured.cert.test' }], { keySize: 2048, algorithm: 'sha256' });
        await mkdir(path.join(dir, 'tls'), { recursive: true });
        await writeFile(path.join(dir, 'tls', 'server.crt'), pems.cert);
        await writeFile(path.join(dir, 'tls', 'server.key'), pems.private);
      },
    });
  });
  after(async () => t.close());

  test('with bareLineEndings: normalize, a bare LF becomes CRLF and a smuggling probe stays one message', async () => {
    const reply = await transaction(t.port('mx'), {
      mail: 'MAIL FROM:<a@elsewhere.test>',
      rcpts: ['RCPT TO:<n@opts.test>'],
      data: 'Subject: norm\r\n\r\nline1\nline2\r\n.\nMAIL FROM:<smuggled@evil.test>\r\n.\r\n',
    });
    assert.match(reply, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'n@opts.test')).find((x) => x.includes('Subject: norm')), 10_000, 'delivery');
    assert.match(m, /\r\n\r\nline1\r\nline2\r\n\.\r\nMAIL FROM:<smuggled@evil\.test>\r\n$/);
    assert.equal(/(^|[^\r])\n/.test(m), false, 'no bare LF left');
    assert.equal((await readInbox(t.dataDir, 'n@opts.test')).length, 1, 'one message, not two');
  });

  test('DSN parameters (RFC 3461), BODY and SMTPUTF8 are kept with the transaction', async () => {
    const reply = await transaction(t.port('mx'), {
      mail: 'MAIL FROM:<a@elsewhere.test> RET=HDRS ENVID=env-42 BODY=8BITMIME SMTPUTF8',
      rcpts: ['RCPT TO:<d@opts.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;orig@opts.test'],
      data: 'Subject: dsn\r\n\r\nx\r\n.\r\n',
    });
    assert.match(reply, /^250 /);
    const m = await waitFor(async () => (await readInbox(t.dataDir, 'd@opts.test')).find((x) => x.includes('Subject: dsn')), 10_000, 'delivery');
    const env = JSON.parse(/^X-Envelope: (.*)\r$/m.exec(m)![1]);
    assert.deepEqual(env, { dsn: { ret: 'HDRS', envid: 'env-42' }, body: '8bitmime', smtpUtf8: true, rcpt: [{ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;orig@opts.test' }] });
  });

  test('the configured certificate is the one presented (implicit TLS and STARTTLS)', async () => {
    const cn = await new Promise<string>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: t.port('submissions'), rejectUnauthorized: false }, () => {
        resolve(String(s.getPeerCertificate().subject.CN));
        s.destroy();
      });
      s.once('error', reject);
    });
    assert.equal(cn, 'configured.cert.test');
    const d = await Dialogue.connect(t.port('mx'));
    await d.reply();
    await d.cmd('EHLO client.test');
    assert.match(await d.startTls(), /^220 /);
    assert.match(await d.cmd('EHLO client.test'), /^250/);
    d.close();
    assert.equal(t.logs.some((l) => l.event === 'tls.self_signed'), false);
  });
});
