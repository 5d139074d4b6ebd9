/**
 * Command dispatch: state checks (RFC 3501 §6), the UID prefix, untagged updates before the tagged
 * response, and the answer.
 */
import { ParseError, type Cursor } from '../parser/cursor.ts';
import type { ImapSession } from '../session.ts';
import { ANY_COMMANDS } from './any.ts';
import { AUTH_COMMANDS } from './auth.ts';
import { MAILBOX_COMMANDS } from './mailbox.ts';
import { LIST_COMMANDS } from './list.ts';
import { APPEND_COMMANDS } from './append.ts';
import { SELECTED_COMMANDS } from './selected.ts';
import { FETCH_COMMANDS } from './fetch.ts';
import { STORE_COMMANDS } from './store.ts';
import { SEARCH_COMMANDS } from './search.ts';
import { COPY_COMMANDS } from './copy.ts';
import { IDLE_COMMANDS } from './idle.ts';
import type { CommandSpec } from './types.ts';

const COMMANDS: Record<string, CommandSpec> = {
  ...ANY_COMMANDS, ...AUTH_COMMANDS, ...MAILBOX_COMMANDS, ...LIST_COMMANDS, ...APPEND_COMMANDS,
  ...SELECTED_COMMANDS, ...FETCH_COMMANDS, ...STORE_COMMANDS, ...SEARCH_COMMANDS, ...COPY_COMMANDS, ...IDLE_COMMANDS,
};
/** Commands with a UID form (RFC 3501 §6.4.8, RFC 4315 UID EXPUNGE, RFC 6851 UID MOVE). */
const UID_COMMANDS = new Set(['FETCH', 'STORE', 'SEARCH', 'COPY', 'MOVE', 'EXPUNGE']);

export async function dispatch(s: ImapSession, tag: string, c: Cursor): Promise<void> {
  let name = c.atom().toUpperCase();
  let uid = false;
  if (name === 'UID') {
    c.sp();
    name = c.atom().toUpperCase();
    if (!UID_COMMANDS.has(name)) throw new ParseError(`Unknown UID command ${name}`);
    uid = true;
  }
  const spec = COMMANDS[name];
  if (!spec) throw new ParseError(`Unknown command ${name}`);
  if (!spec.states.includes(s.state)) {
    const why = s.state === 'notauth' ? 'Log in first' : s.state === 'selected' || !spec.states.includes('selected') ? 'Not allowed now' : 'Select a mailbox first';
    throw new ParseError(`${name}: ${why}`);
  }
  if (!c.atEnd()) c.sp();
  const outcome = await spec.run(s, tag, c, uid);
  if (!outcome) return;
  await s.flushUpdates(uid || spec.expungeOk !== false);
  if (s.state === 'logout') return;
  await s.tagged(tag, outcome.status, outcome.text);
  if (outcome.status === 'BAD') await s.clientError();
}
