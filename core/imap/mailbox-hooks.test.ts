/**
 * mailbox.* notification hooks fire once per store change, from the server (SMTP delivery, IMAP
 * STORE and MOVE into Junk), with user, folder and uids/changes.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { ALICE, flow, startImapServer } from './test-support.ts';

let t: Awaited<ReturnType<typeof startImapServer>>;
before(async () => {
  t = await startImapServer();
});
after(async () => t.close());

test('delivery, flag change and a move into Junk reach mailbox.newMessage / flagsChanged / expunged', async () => {
  const seen: string[] = [];
  const hooks = t.server.runtime.hooks;
  const owner = { name: 'observer', timeoutMs: 1000, log: t.server.log, signal: new AbortController().signal };
  hooks.mailbox.newMessage.tap(owner, async (e, x) => void seen.push(`new ${e.user} ${e.folder} ${x.uids.join(',')}`));
  hooks.mailbox.flagsChanged.tap(owner, async (e, x) => void seen.push(`flags ${e.folder} ${x.changes.map((c) => `${c.uid}:${c.flags.join('+')}`).join(',')}`));
  hooks.mailbox.expunged.tap(owner, async (e, x) => void seen.push(`expunged ${e.folder} ${x.uids.join(',')}`));

  await send({ port: t.port('mx'), from: 'x@elsewhere.test', to: [ALICE], raw: 'Subject: spam?\r\n\r\nbuy\r\n' });
  await waitFor(() => seen.includes(`new ${ALICE} INBOX 1`), 10_000, 'newMessage');
  const c = await flow(t.port('imap'));
  try {
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.messageFlagsAdd('1', ['\\Flagged'], { uid: true });
      await c.messageMove('1', 'Junk', { uid: true });
    } finally {
      lock.release();
    }
  } finally {
    await c.logout();
  }
  await waitFor(() => seen.some((s) => s.startsWith('expunged INBOX')) && seen.some((s) => s.includes(' Junk ')), 10_000, 'expunged and added');
  // Each change once; the move's two sides may come in either order.
  assert.deepEqual(seen.slice(0, 2), [`new ${ALICE} INBOX 1`, 'flags INBOX 1:\\Flagged']);
  assert.deepEqual(seen.slice(2).sort(), [
    'expunged INBOX 1',
    `new ${ALICE} Junk 1`,
  ]);
});
