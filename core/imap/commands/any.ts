/**
 * Any-state commands (RFC 3501 §6.1): CAPABILITY, NOOP, LOGOUT; ID (RFC 2971).
 */
import { ParseError } from '../parser/cursor.ts';
import { ANY, AUTHED, ok, type CommandSpec } from './types.ts';

export const ANY_COMMANDS: Record<string, CommandSpec> = {
  CAPABILITY: {
    states: ANY,
    run: async (s, _tag, c) => {
      c.end();
      await s.untagged(`CAPABILITY ${s.capabilities().join(' ')}`);
      return ok('CAPABILITY completed');
    },
  },
  NOOP: {
    states: ANY,
    run: async (_s, _tag, c) => {
      c.end();
      // Pending untagged updates are flushed by the dispatcher (RFC 3501 §6.1.2).
      return ok('NOOP completed');
    },
  },
  LOGOUT: {
    states: ANY,
    run: async (s, tag, c) => {
      c.end();
      await s.logout(tag);
      return undefined;
    },
  },
  ID: {
    states: ANY,
    run: async (s, _tag, c) => {
      // RFC 2971 §3.3: at most 30 pairs, field ≤ 30 octets, value ≤ 1024 octets. The answer
      // names no software (no version disclosure).
      if (c.peekChar() === '(') {
        const items = c.list(() => c.nstring());
        if (items.length % 2 || items.length > 60) throw new ParseError('ID takes up to 30 field/value pairs');
        for (let i = 0; i < items.length; i += 2) {
          if (items[i] === null || items[i]!.length > 30) throw new ParseError('Invalid ID field name');
          if ((items[i + 1]?.length ?? 0) > 1024) throw new ParseError('ID value too long');
        }
      } else {
        const a = c.atom();
        if (a.toUpperCase() !== 'NIL') throw new ParseError('ID takes a list or NIL');
      }
      c.end();
      await s.untagged('ID NIL');
      return ok('ID completed');
    },
  },
  ENABLE: {
    // RFC 5161 §3.1: only in the authenticated state.
    states: ['auth'],
    run: async (s, _tag, c) => {
      // RFC 5161: unknown capabilities are ignored; only CONDSTORE is enableable here.
      const enabled: string[] = [];
      for (;;) {
        const cap = c.atom().toUpperCase();
        if (cap === 'CONDSTORE' && !enabled.includes(cap)) {
          s.condstore = true;
          enabled.push(cap);
        }
        if (c.atEnd()) break;
        c.sp();
      }
      await s.untagged(`ENABLED${enabled.map((e) => ' ' + e).join('')}`);
      return ok('ENABLE completed');
    },
  },
  NAMESPACE: {
    states: AUTHED,
    run: async (s, _tag, c) => {
      c.end();
      // RFC 2342: one personal namespace at the root; no other users' or shared namespaces.
      await s.untagged(`NAMESPACE (("" "${s.store.delimiter}")) NIL NIL`);
      return ok('NAMESPACE completed');
    },
  },
};
