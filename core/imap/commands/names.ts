/**
 * Mailbox names from the wire: astring → modified UTF-7 decoded → INBOX canonicalised (RFC 3501 §5.1).
 */
import { isInbox, INBOX } from '../../store/mail-store.ts';
import { decodeMutf7 } from '../mutf7.ts';
import { ParseError, type Cursor } from '../parser/cursor.ts';

export function parseMailbox(c: Cursor): string {
  const raw = c.astring();
  const name = decodeMutf7(raw);
  if (name === null) throw new ParseError('Mailbox name is not valid modified UTF-7');
  if (!name) throw new ParseError('Empty mailbox name');
  return canonical(name);
}

export function canonical(name: string): string {
  if (isInbox(name)) return INBOX;
  // "inbox.sub" keeps its case below INBOX, but the INBOX part is canonical.
  const m = /^inbox([./])/i.exec(name);
  return m ? INBOX + name.slice(5) : name;
}
