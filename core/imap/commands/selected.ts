/**
 * Selected-state housekeeping (RFC 3501 §6.4): CHECK, CLOSE, UNSELECT (RFC 3691), EXPUNGE and
 * UID EXPUNGE (RFC 4315 §2.1).
 */
import { parseSequenceSet, resolveUidSet } from '../parser/sequence.ts';
import { ParseError } from '../parser/cursor.ts';
import { no, ok, SELECTED, type CommandSpec } from './types.ts';

export const SELECTED_COMMANDS: Record<string, CommandSpec> = {
  CHECK: {
    states: SELECTED,
    run: async (s, _t, c) => {
      c.end();
      await s.selected!.view.refresh();
      return ok('CHECK completed');
    },
  },
  CLOSE: {
    states: SELECTED,
    run: async (s, _t, c) => {
      c.end();
      const sel = s.selected!;
      // RFC 3501 §6.4.2: expunge silently (no EXPUNGE responses), not on a read-only mailbox.
      if (!sel.view.readOnly) await sel.view.expunge().catch(() => []);
      await s.deselect();
      return ok('CLOSE completed');
    },
  },
  UNSELECT: {
    states: SELECTED,
    run: async (s, _t, c) => {
      c.end();
      await s.deselect();
      return ok('UNSELECT completed');
    },
  },
  EXPUNGE: {
    states: SELECTED,
    run: async (s, _t, c, uid) => {
      const sel = s.selected!;
      let only: number[] | undefined;
      if (uid) {
        if (c.atEnd()) throw new ParseError('UID EXPUNGE needs a UID set');
        only = resolveUidSet(parseSequenceSet(c), sel.uids);
      }
      c.end();
      if (sel.view.readOnly) return no('[READ-ONLY] Mailbox is read-only');
      if (only && !only.length) return ok('UID EXPUNGE completed');
      const gone = await sel.view.expunge(only);
      for (const line of sel.expungeNow(gone)) await s.send(line + '\r\n');
      return ok(`${uid ? 'UID EXPUNGE' : 'EXPUNGE'} completed`);
    },
  },
};
