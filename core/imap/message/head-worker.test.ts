// The head-reading worker thread: heads (end of header, ENVELOPE fields, ENVELOPE bytes) read and
// parsed on it equal those read on the session's thread, on awkward headers too; files renamed
// behind the store's back, a stopped worker and a process killed before its summary write are
// all survived with the same answers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { makeMessage } from '../../../bench/imap/corpus.ts';
import type { FolderView } from '../../store/mail-store.ts';
import { HeadReader } from './head-reader.ts';
import { envelopeBytes, type MessageHead, StructureCache } from './index.ts';
import { EIGHT_BIT, FORWARD, MALFORMED, MISSING, NESTED, SIMPLE } from './test-messages.ts';
import { folderWith, USER } from './test-support.ts';
import { MaildirStore } from '../../../plugins/maildir/maildir-store.ts';

const crlf = (lines: readonly string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

const ODD: readonly Buffer[] = [
  SIMPLE, NESTED, FORWARD, MISSING, MALFORMED, EIGHT_BIT,
  // Header past the first read (16 KiB), the ENVELOPE fields at its end: the worker's second pass.
  crlf([...Array.from({ length: 400 }, (_, i) => `Received: from r${i}.example.test by mx.example.test; Fri, 27 Nov 2026 10:00:00 +0000`), 'From: Late <late@example.test>', 'Subject: after 40 KB', '', 'b']),
  // Header past what the full parser keeps (256 KiB): not a head; the message is parsed whole.
  crlf([`X-Huge: ${'h'.repeat(300 * 1024)}`, 'From: huge@example.test', '', 'b']),
  Buffer.from('From: only@header.test\r\nSubject: no body at all'),
  Buffer.from('From: A <a@lf.test>\nTo: b@lf.test,\n c@lf.test\nSubject: bare\n LF folded\n\nbody\n'),
  crlf(['Subject: one', '\ttwo', 'From: "Folded', ' Name" <f@x.test>', 'To: =?UTF-8?B?w6lsw6g=?=', ' =?UTF-8?Q?_suite?= <e@x.test>', '', 'b']),
  crlf(['From: a@x.test', 'To: Team: m1@x.test, "M 2" <m2@x.test>;, Empty:;, solo@x.test', 'Cc: undisclosed-recipients:;', '', 'b']),
  crlf(['From: Zoë Ünïcode <zoe@пример.test>', 'Subject: 日本語の件名', 'Reply-To: "a \\"q\\" b" <x@y>', '', 'тело']),
  Buffer.concat([Buffer.from('From: Ren'), Buffer.from([0xe9]), Buffer.from(' <r@x.test>\r\nSubject: caf'), Buffer.from([0xe9]), Buffer.from('\r\n\r\nb')]),
  crlf(['Subject : spaced name', 'Fr om: bad@x.test', 'no colon here', ':empty name', 'From:x@y.test', 'To:', 'Received: r', 'Reply-To: rt@x.test', '', 'b']),
  Buffer.alloc(0),
];

/** Every message's head in UID order, asked for as FETCH 1:* asks (cached first, else a batch read). */
async function headsOf(cache: StructureCache, view: FolderView): Promise<MessageHead[]> {
  const out: MessageHead[] = [];
  for (const u of view.uids()) out.push(cache.peekHead(view, u) ?? (await cache.head(view, u)));
  return out;
}

function same(a: readonly MessageHead[], b: readonly MessageHead[], what: string): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    assert.ok(x && y);
    assert.equal(x.size, y.size, `${what} ${i}: size`);
    assert.equal(x.bodyStart, y.bodyStart, `${what} ${i}: end of header`);
    assert.deepEqual(x.fields, y.fields, `${what} ${i}: fields`);
    assert.deepEqual(envelopeBytes(x), envelopeBytes(y), `${what} ${i}: ENVELOPE`);
  }
}

test('heads read on the worker thread equal those read here, on odd headers and the bench corpus', async (t) => {
  const messages = [...ODD, ...Array.from({ length: 300 }, (_, i) => makeMessage(i)), ...ODD];
  const { view } = await folderWith(t, messages);
  const here = await headsOf(new StructureCache(), view);
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-head-summary-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const cache = new StructureCache({ dir });
  t.after(() => cache.close());
  assert.equal(await cache.startHeadWorker(), true, 'the worker loads');
  const onWorker = await headsOf(cache, view);
  // The worker's heads come with their ENVELOPE bytes; all but the two too large for a head are its.
  assert.equal(onWorker.filter((h) => h.memo.envelopeBytes !== undefined).length, messages.length - 2);
  same(onWorker, here, 'message');
  // Their summary lines (written from the worker's JSON as it is) load back to the same heads.
  await cache.flush();
  const noReads = new Proxy(view, {
    get(target, prop) {
      if (prop === 'read' || prop === 'readPrefixes' || prop === 'filePaths') return () => assert.fail(`${String(prop)}: a message file was opened`);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  same(await headsOf(new StructureCache({ dir }), noReads), here, 'from the summary');
});

test('a file renamed behind the store (another mail tool) is found again; a stopped worker leaves reads here', async (t) => {
  const { view, uids } = await folderWith(t, Array.from({ length: 200 }, (_, i) => makeMessage(i)));
  const here = await headsOf(new StructureCache(), view);
  // Another tool sets the \Seen flag of a few messages by renaming their files.
  for (const u of [uids[3], uids[150]]) {
    const file = view.filePaths?.([u ?? 0])[0];
    assert.ok(file);
    await fsp.rename(file, file.replace(/:2,[A-Za-z]*$/, '') + ':2,S');
  }
  const cache = new StructureCache();
  assert.equal(await cache.startHeadWorker(), true);
  same(await headsOf(cache, view), here, 'after rename');
  await cache.close();
  assert.equal(cache.headWorkerReady, false);
  same(await headsOf(cache, view), here, 'cached');
  same(await headsOf(new StructureCache(), view), here, 'without a worker');
});

test('HeadReader: answers nothing before it is loaded or after it stopped (the caller reads itself)', async () => {
  const reader = new HeadReader();
  try {
    assert.equal(await reader.read(['/nonexistent'], [1], 16), undefined, 'not loaded yet');
    assert.equal(await reader.whenReady(10_000), true);
    const reply = await reader.read(['/nonexistent/file', null], [10, 10], 16 * 1024);
    assert.ok(reply);
    assert.deepEqual([...reply.bodyStart], [-2, -1], 'gone, unknown');
  } finally {
    await reader.close();
  }
  assert.equal(reader.ready, false);
  assert.equal(await reader.read(['/x'], [1], 16), undefined);
});

test('a process killed right after a cold FETCH, before its summary write, leaves a usable cache', async (t) => {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-head-crash-'));
  t.after(() => fsp.rm(root, { recursive: true, force: true, maxRetries: 5 }));
  const dir = path.join(root, 'imap-cache');
  const mail = path.join(root, 'mail');
  const store = new MaildirStore({ root: mail, hostname: 'mx.example.test' });
  for (let i = 0; i < 400; i++) await store.append(USER, 'INBOX', makeMessage(i));
  const view = await store.open(USER, 'INBOX');
  t.after(async () => {
    await view.close();
    await store.close();
  });
  const here = await headsOf(new StructureCache(), view);
  // The child reads every head through a cache with a summary directory (worker on), says so, and
  // is killed at once: its summary lines (written once the folder is quiet) are lost, or half written.
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./head-worker-crash.fixture.ts', import.meta.url)), mail, USER, dir], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('fetched')) child.kill('SIGKILL');
  });
  await once(child, 'exit');
  assert.match(out, /fetched 400/);
  // A new cache on the same directory (a restarted server) answers the same, from what is there.
  const again = new StructureCache({ dir });
  same(await headsOf(again, view), here, 'after the crash');
  await again.flush();
  const files = await fsp.readdir(dir).catch(() => []);
  assert.equal(files.length, 1, 'the summary written after the restart');
  const third = new StructureCache({ dir });
  same(await headsOf(third, view), here, 'from the summary');
});
