/**
 * The `auth.verify` answer: throttle check, login name → user id, password check, count.
 * Mechanism-agnostic: PLAIN, LOGIN (and IMAP LOGIN, POP3 USER/PASS) arrive as username + password.
 */
import type { AuthAttempt, AuthVerdict, Credentials } from '../../core/auth/types.ts';
import type { UserRecord } from '../../core/auth/user-directory.ts';
import type { Logger } from '../../core/log.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { canonicalAddress } from './address.ts';
import type { Throttle } from './throttle.ts';

/** Longest login name looked at; longer ones fail (RFC 5321 §4.5.3.1.3: a path is at most 256 octets). */
const MAX_USERNAME = 320;

export interface AuthenticatorDeps {
  directory: {
    resolveLogin(username: string, localPart: boolean): Promise<string | undefined>;
    verify(id: string, password: string): Promise<UserRecord | undefined>;
    lookup(id: string): Promise<UserRecord | undefined>;
  };
  throttle: Throttle;
  localPartLogin: boolean;
  /** Count outcomes (ok, fail, throttled). */
  count?(result: 'ok' | 'fail' | 'throttled'): void;
}

export type Authenticate = (attempt: AuthAttempt, creds: Credentials, log: Pick<Logger, 'info' | 'warn'>) => Promise<AuthVerdict>;

export function createAuthenticator(d: AuthenticatorDeps): Authenticate {
  return async (attempt, creds, log) => {
    const login = creds.username.slice(0, MAX_USERNAME);
    const id = creds.username.length <= MAX_USERNAME ? await d.directory.resolveLogin(creds.username, d.localPartLogin) : undefined;
    const subject = { ip: attempt.remoteAddress, user: id ?? canonicalAddress(login) };
    const base = { username: login, remoteAddress: attempt.remoteAddress, protocol: attempt.protocol, mechanism: attempt.mechanism };

    const locked = await d.throttle.blocked(subject);
    if (locked) {
      d.count?.('throttled');
      log.warn({ event: 'auth-file.throttled', ...base, scope: locked }, 'too many failed logins; answering "try later" without checking the password');
      return { kind: 'tempfail', reply: REPLY.authThrottled, reason: `throttled (${locked})` };
    }

    // RFC 4616 §2: an authorization identity other than the user's own would need proxy rights, which this plugin grants nobody.
    const authzOk = creds.authzid === undefined || creds.authzid === '' || (id !== undefined && canonicalAddress(creds.authzid) === id);
    // Always hash (a dummy for unknown names), so the answer's timing does not tell whether a user exists.
    const user = await d.directory.verify(id ?? '', creds.password);
    if (user && authzOk) {
      await d.throttle.succeeded(subject);
      d.count?.('ok');
      return { kind: 'ok', user: user.id };
    }
    const tripped = await d.throttle.failed(subject);
    d.count?.('fail');
    // The reason goes to the log only; the client gets the same answer whatever it is.
    const known = id === undefined ? undefined : await d.directory.lookup(id);
    const why = user ? 'authzid not allowed'
      : id === undefined ? (creds.username.length > MAX_USERNAME ? 'login name too long' : 'bare local part not accepted or ambiguous')
      : !known ? 'no such user'
      : known.disabled ? 'user disabled'
      : 'wrong password';
    log.info({ event: 'auth-file.failed', ...base, why, ...(tripped.length ? { locked: tripped } : {}) }, 'login failed');
    return { kind: 'fail', reason: 'invalid credentials' };
  };
}
