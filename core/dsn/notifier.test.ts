import { after, before, describe, test } from 'node:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { startTestServer } from '../testing/server-harness.ts';
import { addUser, readInbox, waitFor } from '../../test/helpers/mail.ts';
import { wants } from './notifier.ts';
import { mimeParts, spooledOriginal, statusBlocks } from './test-support.ts';

const PLUGINS = { 'relay-acl': {}, 'auth-file': {}, aliases: {}, 'local-domains': { domains: ['pochta.test'] }, maildir: {} };
const RAW = 'From: Alice <alice@pochta.test>\r\nTo: bob@remote.test\r\nSubject: Lunch?\r\nMessage-ID: <lunch-1@pochta.test>\r\n\r\nNoon at the usual place.\r\n';
const BOB = { address: 'bob@remote.test', action: 'failed' as const, status: '5.1.1', diagnostic: 'smtp; 550 5.1.1 no such user', remoteMta: 'mx.remote.test', lastAttemptAt: Date.UTC(2026, 10, 27, 10, 5) };

describe('DSN notifier through the internal submission path', () => {
  let t: Awaited<ReturnType<typeof startTestServer>>;
  let spoolDir: string;
  before(async () => {
    spoolDir = await mkdtemp(path.join(tmpdir(), 'pochta-dsn-'));
    t = await startTestServer({
      config: { plugins: PLUGINS, dsn: { postmaster: 'postmaster@pochta.test', maxFullBytes: 2 * 1024 * 1024 } },
      setup: async (dir) => {
        await addUser(dir, 'alice@pochta.test', 'correct horse battery');
        await addUser(dir, 'postmaster@pochta.test', 'correct horse battery');
      },
    });
  });
  after(async () => {
    await t.close();
    await rm(spoolDir, { recursive: true, force: true });
  });

  test('a failure notice lands in the sender\'s Maildir, from <>, with ENVID, ORCPT and the original', async () => {
    const orig = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000001', sender: 'alice@pochta.test', raw: RAW, envid: 'lunch-env', recipients: [{ address: 'bob@remote.test', orcpt: 'rfc822;bob@remote.test' }] });
    await t.server.notifier.send({ kind: 'failure', ...orig, recipients: [BOB] });
    const raw = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((m) => m.includes('Undelivered Mail Returned to Sender')), 10_000, 'the notice');
    // Delivered from the null sender (RFC 3464 §2, RFC 5321 §4.5.5): the Maildir copy shows no
    // Return-Path other than <>; the transaction log line says so too.
    const line = t.logs.find((l) => l.event === 'smtp.transaction' && l.from === '' && (l.rcpt as string[]).includes('alice@pochta.test'));
    assert.ok(line, 'the notice went through the SMTP transaction path');
    const m = await simpleParser(Buffer.from(raw, 'latin1'));
    assert.equal(m.from?.value[0].address, 'MAILER-DAEMON@mail.example.net');
    assert.equal(m.headers.get('auto-submitted'), 'auto-replied');
    const ct = m.headers.get('content-type') as { value: string; params: Record<string, string> };
    assert.equal(ct.value, 'multipart/report');
    const parts = mimeParts(raw, ct.params.boundary);
    const [msg, rcpt] = statusBlocks(parts[1].body);
    assert.equal(msg['original-envelope-id'], 'lunch-env');
    assert.equal(rcpt['original-recipient'], 'rfc822;bob@remote.test');
    assert.equal(rcpt['final-recipient'], 'rfc822;bob@remote.test');
    assert.equal(rcpt['diagnostic-code'], 'smtp; 550 5.1.1 no such user');
    const original = m.attachments.find((a) => a.contentType === 'message/rfc822');
    assert.ok(original);
    assert.match(original.content.toString(), /Noon at the usual place/);
  });

  test('a large original is attached whole up to dsn.maxFullBytes, and as its header section beyond', async () => {
    const line = 'z'.repeat(76) + '\r\n';
    for (const [id, lines, full] of [['00MWZH0000000000BIG1', 20_000, true], ['00MWZH0000000000BIG2', 40_000, false]] as const) {
      const raw = `From: alice@pochta.test\r\nSubject: big ${id}\r\n\r\n` + line.repeat(lines);
      const orig = await spooledOriginal({ dir: spoolDir, id, sender: 'alice@pochta.test', raw, recipients: [{ address: 'bob@remote.test' }] });
      await t.server.notifier.send({ kind: 'failure', ...orig, recipients: [BOB] });
      const got = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((m) => m.includes(`Subject: big ${id}`)), 20_000, id);
      assert.equal(got.split(line).length - 1, full ? lines : 0, id);
      assert.match(got, full ? /Content-Type: message\/rfc822/ : /Content-Type: text\/rfc822-headers/);
    }
  });

  test('RET=HDRS: the header section only', async () => {
    const orig = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000002', sender: 'alice@pochta.test', raw: RAW.replace('Lunch?', 'Dinner?'), ret: 'HDRS', recipients: [{ address: 'bob@remote.test' }] });
    await t.server.notifier.send({ kind: 'failure', ...orig, recipients: [BOB] });
    const raw = await waitFor(async () => (await readInbox(t.dataDir, 'alice@pochta.test')).find((m) => m.includes('Subject: Dinner?')), 10_000, 'the notice');
    assert.match(raw, /Content-Type: text\/rfc822-headers/);
    assert.doesNotMatch(raw, /Noon at the usual place/);
  });

  test('never a notice to the null sender: a failed notice goes to the postmaster, once', async () => {
    const before = (await readInbox(t.dataDir, 'postmaster@pochta.test')).length;
    const dsn = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000003', sender: '', raw: 'From: MAILER-DAEMON@mail.example.net\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nx\r\n', recipients: [{ address: 'gone@remote.test' }] });
    await t.server.notifier.send({ kind: 'failure', ...dsn, recipients: [{ ...BOB, address: 'gone@remote.test' }] });
    const got = await waitFor(async () => {
      const box = await readInbox(t.dataDir, 'postmaster@pochta.test');
      return box.length > before ? box : undefined;
    }, 10_000, 'the postmaster notice');
    assert.match(got[got.length - 1], /gone@remote\.test/);
    // That notice (to the postmaster, from <>) failing in turn is dropped, not reported again.
    const pm = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000004', sender: '', raw: 'Subject: x\r\n\r\nx\r\n', recipients: [{ address: 'postmaster@pochta.test' }] });
    await t.server.notifier.send({ kind: 'failure', ...pm, recipients: [{ ...BOB, address: 'postmaster@pochta.test' }] });
    // Delays and successes of a notice are never reported at all.
    await t.server.notifier.send({ kind: 'delay', ...dsn, recipients: [{ ...BOB, address: 'gone@remote.test', action: 'delayed', status: '4.4.1' }] });
    const dropped = t.logs.filter((l) => l.event === 'dsn.dropped');
    assert.equal(dropped.length, 2, JSON.stringify(dropped));
    assert.equal((await readInbox(t.dataDir, 'postmaster@pochta.test')).length, before + 1);
  });

  test('NOTIFY=NEVER and NOTIFY without FAILURE send nothing; a permanently refused notice goes to the postmaster', async () => {
    const n = (await readInbox(t.dataDir, 'alice@pochta.test')).length;
    const never = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000005', sender: 'alice@pochta.test', raw: RAW, recipients: [{ address: 'bob@remote.test', notify: ['NEVER'] }] });
    await t.server.notifier.send({ kind: 'failure', ...never, recipients: [BOB] });
    const delayOnly = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000006', sender: 'alice@pochta.test', raw: RAW, recipients: [{ address: 'bob@remote.test', notify: ['DELAY'] }] });
    await t.server.notifier.send({ kind: 'failure', ...delayOnly, recipients: [BOB] });
    assert.equal((await readInbox(t.dataDir, 'alice@pochta.test')).length, n);
    // A local sender that does not exist (550 at RCPT): retrying would never help.
    const pmBefore = (await readInbox(t.dataDir, 'postmaster@pochta.test')).length;
    const forged = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000007', sender: 'nobody@pochta.test', raw: RAW, recipients: [{ address: 'bob@remote.test' }] });
    await t.server.notifier.send({ kind: 'failure', ...forged, recipients: [BOB] });
    await waitFor(async () => (await readInbox(t.dataDir, 'postmaster@pochta.test')).length > pmBefore, 10_000, 'postmaster copy');
    assert.ok(t.logs.some((l) => l.event === 'dsn.to_postmaster'));
  });

  test('a notice that cannot be queued now rejects, so the scheduler retries', async () => {
    const remote = await spooledOriginal({ dir: spoolDir, id: '00MWZH00000000000008', sender: 'someone@remote.test', raw: RAW, recipients: [{ address: 'bob@remote.test' }] });
    // No remote delivery is configured in this server: 451 4.3.5 at RCPT.
    await assert.rejects(t.server.notifier.send({ kind: 'failure', ...remote, recipients: [BOB] }), /451 4\.3\.5/);
  });
});

test('NOTIFY rules (RFC 3461 §4.1)', () => {
  assert.equal(wants(undefined, 'failure'), true);
  assert.equal(wants(undefined, 'delay'), true);
  assert.equal(wants(undefined, 'success'), false);
  assert.equal(wants(['NEVER'], 'failure'), false);
  assert.equal(wants(['SUCCESS'], 'success'), true);
  assert.equal(wants(['success', 'delay'], 'failure'), false);
});
