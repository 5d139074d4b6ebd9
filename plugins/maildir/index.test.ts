import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { LocalDelivery } from '../../core/queue/types.ts';
import { MAIL_STORE } from '../../core/store/mail-store.ts';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import maildir from './index.ts';
import { streamText } from './test-support.ts';

async function setup(t: { after: (fn: () => Promise<void>) => void }, config: Record<string, unknown> = {}) {
  const h = await createPluginHarness({ plugins: [[maildir, config]] });
  t.after(() => h.close());
  const spool = path.join(h.dataDir, 'spooled.eml');
  await fsp.writeFile(spool, 'Received: from x\r\nX-Spam: old\r\n\tcontinued\r\nSubject: hi\r\n\r\nX-Spam: in body\r\n');
  const job = (over: Partial<LocalDelivery> = {}): LocalDelivery => ({
    queueId: 'Q1', mailFrom: 'a@example.org', recipient: 'alice@example.test', user: 'alice@example.test',
    headerPrefix: Buffer.from('X-Added: yes\r\n'), removeHeaders: [], body: { kind: 'file', path: spool }, size: 0, ...over,
  });
  const deliver = (j: LocalDelivery) => h.hooks.delivery.local.call(j, {});
  return { h, job, deliver, store: h.services.get(MAIL_STORE) };
}

test('delivery.local stores prefix + spool in the user INBOX under <dataDir>/mail', async (t) => {
  const { h, job, deliver, store } = await setup(t);
  assert.deepEqual(await deliver(job()), { kind: 'delivered', detail: 'INBOX uid 1' });
  const files = await fsp.readdir(path.join(h.dataDir, 'mail', 'example.test', 'alice', 'new'));
  assert.equal(files.length, 1);
  const view = await store.open('alice@example.test', 'INBOX');
  assert.match((await streamText(await view.read(1))).toString(), /^Return-Path: <a@example.org>\r\nDelivered-To: alice@example.test\r\nX-Added: yes\r\nReceived: from x\r\nX-Spam: old/);
  await view.close();
});

test('removed headers are dropped from the top-level header only', async (t) => {
  const { job, deliver, store } = await setup(t);
  await deliver(job({ removeHeaders: ['x-spam'] }));
  const view = await store.open('alice@example.test', 'INBOX');
  assert.equal((await streamText(await view.read(1))).toString(), 'Return-Path: <a@example.org>\r\nDelivered-To: alice@example.test\r\nX-Added: yes\r\nReceived: from x\r\nSubject: hi\r\n\r\nX-Spam: in body\r\n');
  await view.close();
});

test('quarantine goes to Junk, re-created if the user deleted it; with autocreate off, to INBOX', async (t) => {
  const { job, deliver, store } = await setup(t);
  await store.deleteFolder('alice@example.test', 'Junk');
  assert.deepEqual(await deliver(job({ folder: 'Junk' })), { kind: 'delivered', detail: 'Junk uid 1' });

  const off = await setup(t, { autocreateFolders: false });
  assert.deepEqual(await off.deliver(off.job({ folder: 'NoSuchFolder' })), { kind: 'delivered', detail: 'INBOX uid 1' });
  assert.deepEqual(await off.deliver(off.job({ folder: '../../etc' })), { kind: 'delivered', detail: 'INBOX uid 2' });
  assert.ok(off.h.logs.some((l) => l.event === 'maildir.fallback'));
});

test('a user id the store cannot hold fails permanently; a missing spool file is retried', async (t) => {
  const { job, deliver } = await setup(t);
  assert.equal((await deliver(job({ user: '../escape@example.test' })))?.kind, 'permfail');
  assert.equal((await deliver(job({ body: { kind: 'file', path: '/nonexistent/spool' } })))?.kind, 'tempfail');
});
