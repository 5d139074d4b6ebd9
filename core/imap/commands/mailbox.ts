/**
 * Authenticated-state mailbox commands (RFC 3501 §6.3): SELECT, EXAMINE, CREATE, DELETE, RENAME,
 * SUBSCRIBE, UNSUBSCRIBE, STATUS; CONDSTORE's SELECT parameter and HIGHESTMODSEQ (RFC 7162 §3.1).
 */
import type { FolderStatus } from '../../store/mail-store.ts';
import { ParseError, type Cursor } from '../parser/cursor.ts';
import { mailboxName } from '../responses.ts';
import type { ImapSession } from '../session.ts';
import { parseMailbox } from './names.ts';
import { AUTHED, no, ok, type CommandSpec, type Outcome } from './types.ts';

async function select(s: ImapSession, c: Cursor, readOnly: boolean): Promise<Outcome> {
  const name = parseMailbox(c);
  if (!c.atEnd()) {
    c.sp();
    const params = c.list(() => c.atom().toUpperCase());
    for (const p of params) {
      if (p === 'CONDSTORE') s.condstore = true;
      else throw new ParseError(`Unknown SELECT parameter ${p}`);
    }
  }
  c.end();
  let sel;
  try {
    sel = await s.select(name, readOnly);
  } catch (err) {
    // RFC 3501 §6.3.1: a failed SELECT leaves no mailbox selected.
    await s.deselect();
    throw err;
  }
  const view = sel.view;
  let firstUnseen = 0;
  for (let i = 0; i < sel.uids.length && !firstUnseen; i++) {
    const m = view.get(sel.uids[i]);
    if (m && !m.flags.includes('\\Seen')) firstUnseen = i + 1;
  }
  const st = view.status();
  for (const line of sel.flagsLines()) await s.send(line + '\r\n');
  await s.untagged(`${sel.exists} EXISTS`);
  await s.untagged(`${sel.recent} RECENT`);
  if (firstUnseen) await s.untagged(`OK [UNSEEN ${firstUnseen}] First unseen`);
  await s.untagged(`OK [UIDVALIDITY ${view.uidValidity}] UIDs valid`);
  await s.untagged(`OK [UIDNEXT ${st.uidNext}] Predicted next UID`);
  await s.untagged(`OK [HIGHESTMODSEQ ${st.highestModseq}] Highest`);
  return ok(`[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`);
}

const STATUS_ITEMS: Record<string, (st: FolderStatus) => number> = {
  MESSAGES: (st) => st.messages,
  RECENT: (st) => st.recent,
  UIDNEXT: (st) => st.uidNext,
  UIDVALIDITY: (st) => st.uidValidity,
  UNSEEN: (st) => st.unseen,
  HIGHESTMODSEQ: (st) => st.highestModseq,
};

export function parseStatusItems(c: Cursor): string[] {
  const items = c.list(() => c.atom().toUpperCase());
  if (!items.length) throw new ParseError('Empty STATUS item list');
  for (const i of items) if (!(i in STATUS_ITEMS)) throw new ParseError(`Unknown STATUS item ${i}`);
  return items;
}

export function statusText(name: string, st: FolderStatus, items: readonly string[]): string {
  return `STATUS ${mailboxName(name)} (${items.map((i) => `${i} ${STATUS_ITEMS[i](st)}`).join(' ')})`;
}

export const MAILBOX_COMMANDS: Record<string, CommandSpec> = {
  SELECT: { states: AUTHED, run: (s, _t, c) => select(s, c, false) },
  EXAMINE: { states: AUTHED, run: (s, _t, c) => select(s, c, true) },
  CREATE: {
    states: AUTHED,
    run: async (s, _t, c) => {
      let name = parseMailbox(c);
      c.end();
      // RFC 3501 §6.3.3: a trailing delimiter only declares intent to create inferiors.
      const d = s.store.delimiter;
      while (name.endsWith(d) && name.length > 1) name = name.slice(0, -1);
      if (name === 'INBOX') return no('[ALREADYEXISTS] INBOX always exists');
      await s.store.createFolder(s.user!, name);
      return ok('CREATE completed');
    },
  },
  DELETE: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const name = parseMailbox(c);
      c.end();
      if (name === 'INBOX') return no('[CANNOT] INBOX cannot be deleted');
      if (s.selected?.view.folder === name) return no('[INUSE] Deselect the mailbox before deleting it');
      await s.store.deleteFolder(s.user!, name);
      return ok('DELETE completed');
    },
  },
  RENAME: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const from = parseMailbox(c);
      c.sp();
      const to = parseMailbox(c);
      c.end();
      if (s.selected?.view.folder === from && from !== 'INBOX') return no('[INUSE] Deselect the mailbox before renaming it');
      await s.store.renameFolder(s.user!, from, to);
      return ok('RENAME completed');
    },
  },
  SUBSCRIBE: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const name = parseMailbox(c);
      c.end();
      await s.store.subscribe(s.user!, name);
      return ok('SUBSCRIBE completed');
    },
  },
  UNSUBSCRIBE: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const name = parseMailbox(c);
      c.end();
      await s.store.unsubscribe(s.user!, name);
      return ok('UNSUBSCRIBE completed');
    },
  },
  STATUS: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const name = parseMailbox(c);
      c.sp();
      const items = parseStatusItems(c);
      c.end();
      if (items.includes('HIGHESTMODSEQ')) s.condstore = true;
      const st = await s.store.status(s.user!, name);
      await s.untagged(statusText(name, st, items));
      return ok('STATUS completed');
    },
  },
};
