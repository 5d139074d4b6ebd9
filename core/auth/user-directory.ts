import { defineService } from '../services.ts';

export interface UserRecord {
  /** The canonical id: a lower-cased address, `alice@example.test`. */
  readonly id: string;
  readonly name?: string;
  readonly disabled?: boolean;
}

/**
 * The user directory: who exists and how their password is checked. Provided by a plugin
 * (auth-file today; LDAP or SQL ones later), used by local-domains, IMAP and POP3.
 */
export interface UserDirectory {
  /** The user with this canonical id, if any. */
  lookup(id: string): Promise<UserRecord | undefined>;
  /** The user when the password matches, otherwise undefined. */
  verify(id: string, password: string): Promise<UserRecord | undefined>;
  list(): Promise<UserRecord[]>;
  /** The domains the directory has users in. */
  domains(): Promise<string[]>;
}

export const USER_DIRECTORY = defineService<UserDirectory>('userDirectory');
