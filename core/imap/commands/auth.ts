/**
 * Not-authenticated commands (RFC 3501 §6.2): STARTTLS, LOGIN, AUTHENTICATE PLAIN (RFC 4616, with
 * the SASL-IR initial response of RFC 4959).
 */
import { ParseError } from '../parser/cursor.ts';
import type { ImapSession, LoginResult } from '../session.ts';
import { bad, no, NOTAUTH, ok, type CommandSpec, type Outcome } from './types.ts';

function loginOutcome(s: ImapSession, r: LoginResult, mechanism: string): Outcome | undefined {
  if (r === 'closed') return undefined;
  if (r === 'ok') return ok(`[CAPABILITY ${s.capabilities().join(' ')}] ${mechanism} completed`);
  if (r === 'tempfail') return no('[UNAVAILABLE] Temporary authentication failure, try again later');
  return no('[AUTHENTICATIONFAILED] Authentication failed');
}

/** RFC 4616: [authzid] NUL authcid NUL passwd, UTF-8. */
export function decodePlain(b64: string): { authzid: string; username: string; password: string } | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4) return undefined;
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || !parts[1] || !parts[2]) return undefined;
  return { authzid: parts[0], username: parts[1], password: parts[2] };
}

export const AUTH_COMMANDS: Record<string, CommandSpec> = {
  STARTTLS: {
    states: NOTAUTH,
    run: async (s, tag, c) => {
      c.end();
      if (!s.canStartTls) return bad(s.secure ? 'TLS is already active' : 'STARTTLS is not offered here');
      await s.startTls(tag);
      return undefined;
    },
  },
  LOGIN: {
    states: NOTAUTH,
    run: async (s, _tag, c) => {
      const username = c.astring();
      c.sp();
      const password = c.astring();
      c.end();
      if (!s.authAllowed) return no('[PRIVACYREQUIRED] LOGIN is disabled before STARTTLS');
      return loginOutcome(s, await s.login('LOGIN', { username, password }), 'LOGIN');
    },
  },
  AUTHENTICATE: {
    states: NOTAUTH,
    run: async (s, _tag, c) => {
      const mech = c.atom().toUpperCase();
      let initial: string | undefined;
      if (!c.atEnd()) {
        c.sp();
        initial = c.atom();
      }
      c.end();
      if (!s.authAllowed) return no('[PRIVACYREQUIRED] Authentication is disabled before STARTTLS');
      if (mech !== 'PLAIN') return no(`Unsupported mechanism ${mech}`);
      let response: string;
      if (initial !== undefined) {
        // RFC 4959 §3: "=" is an empty initial response.
        response = initial === '=' ? '' : initial;
      } else {
        await s.send('+ \r\n');
        await s.flushOutput();
        const line = await s.nextLine();
        if (line === undefined) return undefined;
        response = line.trim();
      }
      if (response === '*') return bad('AUTHENTICATE cancelled');
      const plain = decodePlain(response);
      if (!plain) throw new ParseError('Invalid PLAIN response');
      const creds = { username: plain.username, password: plain.password, ...(plain.authzid ? { authzid: plain.authzid } : {}) };
      return loginOutcome(s, await s.login('PLAIN', creds), 'AUTHENTICATE');
    },
  },
};
