/**
 * APPEND (RFC 3501 §6.3.11) with APPENDUID (RFC 4315 §3). The literal's size was checked against
 * the limit by the framer before any of it was read.
 */
import { isMailStoreError } from '../../store/errors.ts';
import { ParseError } from '../parser/cursor.ts';
import { parseDateTime } from '../parser/date.ts';
import { parseMailbox } from './names.ts';
import { AUTHED, no, ok, type CommandSpec } from './types.ts';

export const APPEND_COMMANDS: Record<string, CommandSpec> = {
  APPEND: {
    states: AUTHED,
    run: async (s, _t, c) => {
      const name = parseMailbox(c);
      c.sp();
      let flags: string[] = [];
      if (c.peekChar() === '(') {
        flags = c.list(() => c.flag());
        if (flags.includes('\\Recent')) throw new ParseError('\\Recent cannot be set');
        c.sp();
      }
      let date: Date | undefined;
      if (c.peekChar() === '"') {
        date = parseDateTime(c);
        c.sp();
      }
      if (c.peekChar() !== '{') throw new ParseError('APPEND needs the message as a literal');
      const body = c.stringBytes();
      c.end();
      if (!body.length) return no('Empty message');
      try {
        const r = await s.store.append(s.user!, name, body, { flags: [...new Set(flags)], ...(date ? { internalDate: date } : {}) });
        return ok(`[APPENDUID ${r.uidValidity} ${r.uid}] APPEND completed`);
      } catch (err) {
        // RFC 3501 §6.3.11: TRYCREATE tells the client to CREATE and retry.
        if (isMailStoreError(err, 'NONEXISTENT')) return no('[TRYCREATE] No such mailbox');
        throw err;
      }
    },
  },
};
