/**
 * End to end with imapflow as the client, against the whole server on loopback: STARTTLS and
 * implicit TLS, mailboxes, APPEND/FETCH/STORE/COPY/MOVE/EXPUNGE, concurrent sessions on one
 * mailbox, and IDLE woken by an SMTP delivery.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ImapFlow } from 'imapflow';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD, flow, startImapServer } from './test-support.ts';

const MSG = (subject: string, body = 'hello there') =>
  `From: Carol <carol@elsewhere.test>\r\nTo: alice@imap.test\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}@x.test>\r\nDate: Fri, 27 Nov 2026 10:00:00 +0000\r\n\r\n${body}\r\n`;

describe('imapflow against the IMAP server', () => {
  let t: Awaited<ReturnType<typeof startImapServer>>;
  const clients: ImapFlow[] = [];
  const open = async (...args: Parameters<typeof flow>) => {
    const c = await flow(...args);
    clients.push(c);
    return c;
  };
  before(async () => {
    t = await startImapServer();
  });
  after(async () => {
    for (const c of clients) await c.logout().catch(() => c.close());
    await t.close();
  });

  test('STARTTLS, login, SPECIAL-USE folders of a new user, APPEND and FETCH byte for byte', async () => {
    const c = await open(t.port('imap'));
    assert.equal(c.secureConnection, true, 'upgraded with STARTTLS');
    const list = await c.list();
    const uses = Object.fromEntries(list.filter((m) => m.specialUse && m.specialUse !== '\\Inbox').map((m) => [m.specialUse, m.path]));
    assert.deepEqual(uses, { '\\Archive': 'Archive', '\\Drafts': 'Drafts', '\\Junk': 'Junk', '\\Sent': 'Sent', '\\Trash': 'Trash' });
    assert.ok(list.some((m) => m.path === 'INBOX'));
    const raw = MSG('first');
    const r = await c.append('INBOX', raw, ['\\Flagged'], new Date('2026-01-02T03:04:05Z'));
    assert.ok(r && r.uid, 'APPENDUID gives the uid');
    const lock = await c.getMailboxLock('INBOX');
    try {
      const m = await c.fetchOne(String(c.mailbox && c.mailbox.exists), { uid: true, flags: true, source: true, size: true, internalDate: true }, {});
      assert.ok(m);
      assert.equal(m.uid, (r as { uid: number }).uid);
      assert.equal(m.source?.toString('latin1'), raw);
      assert.equal(m.size, Buffer.byteLength(raw));
      assert.ok(m.flags?.has('\\Flagged'));
      assert.equal((m.internalDate as Date).toISOString(), '2026-01-02T03:04:05.000Z');
    } finally {
      lock.release();
    }
  });

  test('implicit TLS, flags, COPY, MOVE (UIDPLUS), delete + EXPUNGE, STATUS', async () => {
    const c = await open(t.port('imaps'), ALICE, ALICE_PASSWORD, true);
    assert.equal(c.secureConnection, true);
    await c.mailboxCreate('Work');
    await c.mailboxCreate('Work/Reports').catch(async () => c.mailboxCreate('Work.Reports'));
    const lock = await c.getMailboxLock('INBOX');
    try {
      await c.append('INBOX', MSG('second'));
      await c.append('INBOX', MSG('third'));
      const total = c.mailbox ? c.mailbox.exists : 0;
      assert.ok(total >= 3, `exists ${total}`);
      await c.messageFlagsAdd('1:*', ['$Important', '\\Answered']);
      await c.messageFlagsRemove('1', ['\\Answered']);
      const flags = await c.fetchAll('1:*', { flags: true, uid: true });
      assert.ok(!flags[0].flags?.has('\\Answered'));
      assert.ok(flags[1].flags?.has('$Important') && flags[1].flags.has('\\Answered'), JSON.stringify(flags.map((f) => [f.uid, [...(f.flags ?? [])]])));
      const copied = await c.messageCopy('1:2', 'Work');
      assert.ok(copied && copied.uidMap && copied.uidMap.size === 2, 'COPYUID maps two messages');
      const moved = await c.messageMove(String(total), 'Archive');
      assert.ok(moved && moved.uidMap && moved.uidMap.size === 1, 'MOVE reports COPYUID');
      assert.equal(c.mailbox && c.mailbox.exists, total - 1, 'the moved message is expunged here');
      await c.messageDelete('1');
      assert.equal(c.mailbox && c.mailbox.exists, total - 2);
    } finally {
      lock.release();
    }
    const st = await c.status('Work', { messages: true, uidNext: true, unseen: true, highestModseq: true });
    assert.ok(st);
    assert.equal(st.messages, 2);
    assert.equal(st.uidNext, 3);
    const archive = await c.status('Archive', { messages: true });
    assert.ok(archive && archive.messages === 1);
    await c.mailboxRename('Work', 'Projects');
    const names = (await c.list()).map((m) => m.path);
    assert.ok(names.includes('Projects') && !names.includes('Work'));
    await c.mailboxDelete('Projects');
    assert.ok(!(await c.list()).some((m) => m.path === 'Projects'));
  });

  test('a wrong password is refused and the right one works on the same server', async () => {
    await assert.rejects(flow(t.port('imap'), ALICE, 'wrong password'));
    const c = await open(t.port('imap'), BOB, BOB_PASSWORD);
    assert.ok(c.authenticated);
  });

  test('two sessions on one mailbox see each other\'s new messages, flag changes and expunges', async () => {
    const a = await open(t.port('imap'), BOB, BOB_PASSWORD);
    const b = await open(t.port('imaps'), BOB, BOB_PASSWORD, true);
    const la = await a.getMailboxLock('INBOX');
    const lb = await b.getMailboxLock('INBOX');
    const seen = { exists: [] as number[], flags: [] as string[][], expunge: [] as number[] };
    b.on('exists', (e: { count: number }) => seen.exists.push(e.count));
    b.on('flags', (e: { flags: Set<string> }) => seen.flags.push([...e.flags]));
    b.on('expunge', (e: { seq: number }) => seen.expunge.push(e.seq));
    try {
      await a.append('INBOX', MSG('shared one'));
      await a.append('INBOX', MSG('shared two'));
      await waitFor(async () => {
        await b.noop();
        return seen.exists.includes(2);
      }, 10_000, 'EXISTS 2 at b');
      await a.messageFlagsAdd('2', ['\\Flagged']);
      await waitFor(async () => {
        await b.noop();
        return seen.flags.some((f) => f.includes('\\Flagged'));
      }, 10_000, 'FETCH FLAGS at b');
      await a.messageDelete('1');
      await waitFor(async () => {
        await b.noop();
        return seen.expunge.includes(1);
      }, 10_000, 'EXPUNGE at b');
      assert.equal(b.mailbox && b.mailbox.exists, 1);
    } finally {
      la.release();
      lb.release();
    }
  });

  test('a client in IDLE hears of a message delivered over SMTP', async () => {
    const c = await open(t.port('imap'));
    const lock = await c.getMailboxLock('INBOX');
    try {
      const before = c.mailbox ? c.mailbox.exists : 0;
      const counts: number[] = [];
      c.on('exists', (e: { count: number }) => counts.push(e.count));
      const idling = c.idle();
      await waitFor(() => c.idling, 10_000, 'IDLE started');
      await send({ port: t.port('mx'), from: 'carol@elsewhere.test', to: [ALICE], raw: MSG('pushed') });
      // No NOOP: only IDLE can deliver this.
      await waitFor(() => counts.includes(before + 1), 10_000, 'EXISTS during IDLE');
      assert.ok(c.idling, 'still idling: the update came inside IDLE');
      await c.noop();
      await idling;
    } finally {
      lock.release();
    }
  });
});
