import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { Pop3Client } from '../../core/pop3/test-support.ts';
import { addUser, send } from '../helpers/mail.ts';

const PLUGINS = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} };

describe('read your mail: SMTP in, POP3 out, through the whole server', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  before(async () => {
    t = await startTestServer({ config: { plugins: PLUGINS }, setup: (dir) => addUser(dir, 'dora@pochta.test', 'dora password 1') });
  });
  after(async () => t.close());

  test('a message sent over SMTP is listed, retrieved byte for byte and deleted over POP3 (STLS, then USER/PASS)', async () => {
    const body = 'Subject: pop me\r\nMessage-ID: <pop@client.test>\r\n\r\nline\r\n.starts with a dot\r\n';
    await send({ port: t.port('mx'), from: 'x@elsewhere.test', to: ['dora@pochta.test'], raw: body });
    const c = await Pop3Client.connect(t.port('pop3'));
    assert.match(await c.readLine(), /^\+OK/);
    assert.match(await c.command('USER dora@pochta.test'), /^-ERR \[AUTH\]/, 'no login before TLS');
    assert.match(await c.startTls(), /^\+OK/);
    assert.match(await c.login('dora@pochta.test', 'dora password 1'), /^\+OK/);
    const stat = await c.command('STAT');
    assert.match(stat, /^\+OK 1 \d+$/);
    const uidl = await c.multi('UIDL');
    assert.equal(uidl.lines.length, 1);
    assert.match(await c.command('RETR 1'), /^\+OK/);
    const wire = (await c.readBody()).toString('latin1');
    assert.ok(wire.endsWith(body.replace('\r\n.starts', '\r\n..starts') + '.\r\n'), 'body with dot-stuffing on the wire, then the terminator');
    const message = wire.slice(0, -3).replace(/\r\n\.\./g, '\r\n.');
    assert.match(message, /^Return-Path: <x@elsewhere\.test>\r\n/);
    assert.equal(Number(stat.split(' ')[2]), Buffer.byteLength(message, 'latin1'), 'STAT size = octets of the message');
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.quit(), /^\+OK/);
    const again = await Pop3Client.connect(t.port('pop3s'), { tls: true });
    await again.readLine();
    await again.login('dora@pochta.test', 'dora password 1');
    assert.match(await again.command('STAT'), /^\+OK 0 0$/);
    await again.quit();
  });
});
