import type { Reply } from '../verdict.ts';

export type AuthProtocol = 'smtp' | 'imap' | 'pop3';

/** Who is trying to log in, and how. Shared by SMTP AUTH, IMAP LOGIN/AUTHENTICATE and POP3. */
export interface AuthAttempt {
  readonly protocol: AuthProtocol;
  readonly mechanism: string;
  readonly remoteAddress: string;
  readonly secure: boolean;
  readonly sessionId: string;
}

export interface Credentials {
  readonly username: string;
  /** Never logged: the logger redacts `password` fields, and nothing copies this elsewhere. */
  readonly password: string;
  /** RFC 4616 authorization identity, when the client sent one. */
  readonly authzid?: string;
}

export type AuthVerdict =
  | { kind: 'ok'; user: string }
  | { kind: 'fail'; reason?: string; reply?: Reply }
  | { kind: 'tempfail'; reason?: string; reply?: Reply };

export interface LoginInfo {
  readonly user: string;
  readonly mechanism: string;
}
