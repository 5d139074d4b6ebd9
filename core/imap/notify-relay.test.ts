/**
 * The kv relay between two stores on one Maildir root (two processes), over a MemoryKv channel.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryKv } from '../kv/memory.ts';
import { systemClock } from '../clock.ts';
import { memoryLogger } from '../testing/memory-log.ts';
import type { FolderChange } from '../store/mail-store.ts';
import { MaildirStore } from '../../plugins/maildir/maildir-store.ts';
import { tempRoot } from '../../plugins/maildir/test-support.ts';
import { NOTIFY_CHANNEL, parseEnvelope, startNotifyRelay } from './notify-relay.ts';
import { waitFor } from '../../test/helpers/mail.ts';

const ALICE = 'alice@example.test';
const msg = (n: number) => Buffer.from(`Subject: ${n}\r\n\r\nbody\r\n`);

test('changes in one process reach views in the other as external changes, and are not sent back', async (t) => {
  const root = await tempRoot(t);
  const kv = new MemoryKv(systemClock);
  const { log } = memoryLogger();
  const here = new MaildirStore({ root, hostname: 'node-a' });
  const there = new MaildirStore({ root, hostname: 'node-b' });
  const relayHere = await startNotifyRelay({ store: here, kv, log });
  const relayThere = await startNotifyRelay({ store: there, kv, log });
  const wire: string[] = [];
  const stopTap = await kv.subscribe(NOTIFY_CHANNEL, (m) => wire.push(m));
  t.after(async () => {
    await stopTap();
    await relayHere.stop();
    await relayThere.stop();
    await here.close();
    await there.close();
    await kv.close();
  });
  await here.append(ALICE, 'INBOX', msg(1));
  const view = await here.open(ALICE, 'INBOX');
  const events: FolderChange[] = [];
  here.watch(ALICE, 'INBOX', (c) => events.push(c));

  await there.append(ALICE, 'INBOX', msg(2));
  await waitFor(() => events.some((e) => e.kind === 'added'), 5000, 'added at here');
  assert.deepEqual(events.find((e) => e.kind === 'added'), { user: ALICE, folder: 'INBOX', kind: 'added', uids: [2], external: true });
  assert.deepEqual(view.uids(), [1, 2]);

  const remote = await there.open(ALICE, 'INBOX');
  await remote.setFlags([2], { mode: 'add', flags: ['\\Flagged'] });
  await waitFor(() => view.get(2)?.flags.includes('\\Flagged'), 5000, 'flags at here');
  // Give any echo a chance to go round: there must not be one (external changes are not relayed).
  await new Promise((r) => setTimeout(r, 100));
  const sent = wire.map((m) => JSON.parse(m) as { from: string; change: FolderChange });
  assert.ok(sent.every((m) => m.change.external === undefined), 'external changes are never published');
  assert.ok(sent.every((m) => !('origin' in m.change)), 'view ids stay in their process');
  const fromThere = sent.filter((m) => m.from === relayThere.id).map((m) => m.change.kind);
  assert.deepEqual(fromThere, ['added', 'flags']);
  assert.equal(sent.filter((m) => m.from === relayHere.id).length, 1, 'here published only its own first append');
  await view.close();
  await remote.close();
});

test('malformed channel messages are dropped', () => {
  assert.equal(parseEnvelope('not json'), undefined);
  assert.equal(parseEnvelope(JSON.stringify({ from: 'x', change: { user: 'u', folder: 'f', kind: 'added', uids: ['1'] } })), undefined);
  assert.equal(parseEnvelope(JSON.stringify({ from: 'x', change: { user: 'u', folder: 'f', kind: 'boom' } })), undefined);
  assert.equal(parseEnvelope(JSON.stringify({ from: 'x', change: { user: 'u', folder: 'f', kind: 'flags', changes: [{ uid: 1, flags: [1], modseq: 2 }] } })), undefined);
  assert.deepEqual(parseEnvelope(JSON.stringify({ from: 'x', change: { user: 'u', folder: 'f', kind: 'expunged', uids: [3] } })), { from: 'x', change: { user: 'u', folder: 'f', kind: 'expunged', uids: [3] } });
});
