/**
 * POP3 commands (RFC 1939, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH): argument syntax, which
 * state allows what, and the replies. State changes (login, STLS, UPDATE) are the session's.
 */
import type { Credentials } from '../auth/types.ts';
import type { DropMessage, Maildrop } from './maildrop.ts';

export type Pop3State = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE';

/** What a command handler may do with its session. */
export interface CommandContext {
  readonly state: Pop3State;
  /** TLS is on (implicit listener, or after STLS). */
  readonly secure: boolean;
  /** STLS is offered: a 'starttls' listener, not yet secure. */
  readonly canStartTls: boolean;
  /** USER/PASS/AUTH allowed now: over TLS, or pop3.allowPlaintextAuth. */
  readonly authAllowed: boolean;
  readonly maildrop: Maildrop | undefined;
  /** USER's argument, waiting for PASS. */
  pendingUser: string | undefined;
  send(line: string): Promise<void>;
  /** A multi-line response: first line, lines (dot-stuffed here), then ".". */
  sendMultiline(first: string, lines: Iterable<string>): Promise<void>;
  /** RETR (bodyLines undefined) or TOP: "+OK", the stuffed message, "."; false when the message is gone. */
  sendMessage(m: DropMessage, bodyLines?: number): Promise<boolean>;
  /** The next client line (AUTH continuation); undefined when the connection closed. */
  nextLine(): Promise<{ line: string } | { overlong: true } | undefined>;
  /** Reply +OK and switch to TLS. */
  startTls(): Promise<void>;
  /** Check credentials, lock and open the maildrop; sends the reply either way. */
  login(mechanism: string, creds: Credentials): Promise<void>;
  /** QUIT: UPDATE when in TRANSACTION, the reply, then close. */
  quit(): Promise<void>;
  /** Count a client error (unknown command, failed login); the session closes after too many. */
  error(reply: string): Promise<void>;
}

/** RFC 2449 §5: CAPA. What is offered depends on TLS and the state. */
export function capabilities(ctx: Pick<CommandContext, 'state' | 'canStartTls' | 'authAllowed'>): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING', 'EXPIRE NEVER'];
  if (ctx.state === 'AUTHORIZATION') {
    // RFC 2595 §4: no USER or SASL before TLS unless plaintext logins are allowed.
    if (ctx.authAllowed) caps.push('USER', 'SASL PLAIN');
    if (ctx.canStartTls) caps.push('STLS');
  }
  return caps;
}

const NUMBER = /^[0-9]{1,10}$/;
const AUTH_REFUSED = '-ERR [AUTH] Plaintext authentication disallowed on non-secure connections; use STLS first';

/** RFC 4616 PLAIN message: authzid NUL authcid NUL passwd. */
export function decodePlain(b64: string): Credentials | undefined {
  if (b64 === '=') b64 = '';
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  const parts = Buffer.from(b64, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3) return undefined;
  const [authzid, username, password] = parts as [string, string, string];
  if (!username) return undefined;
  return authzid ? { username, password, authzid } : { username, password };
}

async function auth(ctx: CommandContext, args: string[]): Promise<void> {
  if (args.length === 0) {
    // Pre-RFC 5034 clients (RFC 1734) list mechanisms with a bare AUTH.
    if (!ctx.authAllowed) return ctx.send(AUTH_REFUSED);
    return ctx.sendMultiline('+OK', ['PLAIN']);
  }
  if (args.length > 2) return ctx.error('-ERR syntax: AUTH mechanism [initial-response]');
  if (args[0].toUpperCase() !== 'PLAIN') return ctx.error('-ERR unsupported authentication mechanism');
  if (!ctx.authAllowed) return ctx.send(AUTH_REFUSED);
  let response = args[1];
  if (response === undefined) {
    await ctx.send('+ ');
    const next = await ctx.nextLine();
    if (next === undefined) return;
    if (!('line' in next)) return ctx.error('-ERR line too long');
    response = next.line;
  }
  if (response === '*') return ctx.send('-ERR authentication cancelled');
  const creds = decodePlain(response);
  if (!creds) return ctx.error('-ERR invalid SASL PLAIN response');
  return ctx.login('PLAIN', creds);
}

function needTransaction(ctx: CommandContext): Maildrop | undefined {
  return ctx.state === 'TRANSACTION' ? ctx.maildrop : undefined;
}

/** Run one command line. */
export async function runCommand(ctx: CommandContext, line: string): Promise<void> {
  const sp = line.indexOf(' ');
  const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
  const rest = sp === -1 ? '' : line.slice(sp + 1);
  const args = rest === '' ? [] : rest.split(' ');
  const drop = needTransaction(ctx);

  switch (verb) {
    case 'CAPA':
      return ctx.sendMultiline('+OK Capability list follows', capabilities(ctx));
    case 'QUIT':
      return ctx.quit();
    case 'NOOP':
      if (!drop) break;
      return ctx.send('+OK');
    case 'STLS':
      if (ctx.state !== 'AUTHORIZATION') break;
      if (ctx.secure) return ctx.send('-ERR TLS is already active');
      if (!ctx.canStartTls) return ctx.send('-ERR STLS not available');
      if (args.length) return ctx.error('-ERR syntax: STLS');
      return ctx.startTls();
    case 'USER':
      if (ctx.state !== 'AUTHORIZATION') break;
      if (!ctx.authAllowed) return ctx.send(AUTH_REFUSED);
      if (!rest) return ctx.error('-ERR syntax: USER name');
      ctx.pendingUser = rest;
      return ctx.send('+OK');
    case 'PASS': {
      if (ctx.state !== 'AUTHORIZATION') break;
      if (!ctx.authAllowed) return ctx.send(AUTH_REFUSED);
      const username = ctx.pendingUser;
      ctx.pendingUser = undefined;
      if (username === undefined) return ctx.error('-ERR USER first');
      // RFC 1939 §7: the password is the rest of the line, spaces included.
      return ctx.login('USER', { username, password: rest });
    }
    case 'AUTH':
      if (ctx.state !== 'AUTHORIZATION') break;
      return auth(ctx, args);
    case 'STAT': {
      if (!drop) break;
      if (args.length) return ctx.error('-ERR syntax: STAT');
      const s = drop.stat();
      return ctx.send(`+OK ${s.count} ${s.octets}`);
    }
    case 'LIST':
    case 'UIDL': {
      if (!drop) break;
      const item = (m: DropMessage) => `${m.number} ${verb === 'LIST' ? m.size : drop.uniqueId(m)}`;
      if (args.length > 1) return ctx.error(`-ERR syntax: ${verb} [msg]`);
      if (args.length === 1) {
        const found = drop.lookup(args[0]);
        return ctx.send(found.ok ? `+OK ${item(found.message)}` : `-ERR ${found.error}`);
      }
      const s = drop.stat();
      const first = verb === 'LIST' ? `+OK ${s.count} messages (${s.octets} octets)` : '+OK unique-id listing follows';
      return ctx.sendMultiline(first, (function* () {
        for (const m of drop.live()) yield item(m);
      })());
    }
    case 'RETR':
    case 'TOP': {
      if (!drop) break;
      if (args.length !== (verb === 'RETR' ? 1 : 2)) return ctx.error(verb === 'RETR' ? '-ERR syntax: RETR msg' : '-ERR syntax: TOP msg n');
      if (verb === 'TOP' && !NUMBER.test(args[1])) return ctx.send('-ERR invalid line count');
      const found = drop.lookup(args[0]);
      if (!found.ok) return ctx.send(`-ERR ${found.error}`);
      const sent = await ctx.sendMessage(found.message, verb === 'TOP' ? Number(args[1]) : undefined);
      if (!sent) return ctx.send(`-ERR message ${found.message.number} is no longer available`);
      if (verb === 'RETR') drop.retrieved(found.message);
      return;
    }
    case 'DELE': {
      if (!drop) break;
      if (args.length !== 1) return ctx.error('-ERR syntax: DELE msg');
      const found = drop.lookup(args[0]);
      if (!found.ok) return ctx.send(`-ERR ${found.error}`);
      drop.delete(found.message);
      return ctx.send(`+OK message ${found.message.number} deleted`);
    }
    case 'RSET': {
      if (!drop) break;
      if (args.length) return ctx.error('-ERR syntax: RSET');
      drop.reset();
      const s = drop.stat();
      return ctx.send(`+OK maildrop has ${s.count} messages (${s.octets} octets)`);
    }
    default:
      return ctx.error('-ERR unknown command');
  }
  return ctx.error(`-ERR ${verb} not allowed in the ${ctx.state} state`);
}
