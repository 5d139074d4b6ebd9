/**
 * The user directory backed by the users file. It re-reads the file when it changes (checked by
 * stat — device, inode, size and mtime — at most every `checkEveryMs`), so `pochta user add` on a
 * running server takes effect without a restart. A file that turns invalid is logged once and the
 * previous users stay in force; a file that disappears means no users.
 */
import type { UserDirectory, UserRecord } from '../../core/auth/user-directory.ts';
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../core/log.ts';
import { canonicalAddress, splitAddress } from './address.ts';
import { dummyHash, verifyPassword, type ParsedHash, type ScryptParams } from './password.ts';
import { fileVersion, formatOf, parseUsers, readUsersText, UsersFileError, type UserEntry, type Users } from './users-file.ts';

export interface FileDirectoryOptions {
  /** Absolute path of the users file. */
  file: string;
  clock: Clock;
  /** Look at the file's metadata at most this often; 0: on every call. */
  checkEveryMs: number;
  /** Cost of the dummy hash verified for unknown users: the parameters new hashes get. */
  hashParams: ScryptParams;
  log: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** The password check; replaceable so tests can count what each answer costs. */
  verifyPassword?: (password: string, stored: string | ParsedHash) => Promise<boolean>;
}

const EMPTY: Users = Object.freeze({ byId: new Map(), byLocal: new Map() });

function toRecord(e: UserEntry): UserRecord {
  return { id: e.id, ...(e.name !== undefined ? { name: e.name } : {}), ...(e.disabled ? { disabled: true } : {}) };
}

export class FileUserDirectory implements UserDirectory {
  readonly #o: FileDirectoryOptions;
  readonly #dummy: ParsedHash;
  #users: Users = EMPTY;
  /** Version of the file #users came from ('absent' when there was none). */
  #version = 'absent';
  /** A version that failed to parse, so it is reported once, not on every check. */
  #rejected: string | undefined;
  #checkedAt = Number.NEGATIVE_INFINITY;
  #refreshing: Promise<Users> | undefined;

  constructor(opts: FileDirectoryOptions) {
    this.#o = opts;
    this.#dummy = dummyHash(opts.hashParams);
  }

  /** The first read: an invalid file is an error (the plugin refuses to start); a missing one is a warning. */
  async load(): Promise<void> {
    const { file, log } = this.#o;
    const { text, version } = await readUsersText(file);
    if (text === undefined) {
      log.warn({ event: 'auth-file.missing', file }, 'users file not found: no users until it is created (pochta user add)');
    } else {
      try {
        this.#users = parseUsers(text, formatOf(file));
      } catch (err) {
        throw new UsersFileError(`${file}: ${(err as Error).message}`);
      }
      log.info({ event: 'auth-file.loaded', file, users: this.#users.byId.size }, 'users loaded');
    }
    this.#version = version;
    this.#checkedAt = this.#o.clock.now();
  }

  /** The current users, re-read first when the file changed. */
  async users(): Promise<Users> {
    const now = this.#o.clock.now();
    if (now - this.#checkedAt < this.#o.checkEveryMs) return this.#users;
    this.#refreshing ??= this.#refresh(now).finally(() => { this.#refreshing = undefined; });
    return this.#refreshing;
  }

  async #refresh(now: number): Promise<Users> {
    const { file, log } = this.#o;
    this.#checkedAt = now;
    try {
      const current = await fileVersion(file);
      if (current === this.#version || current === this.#rejected) return this.#users;
      const { text, version } = await readUsersText(file);
      if (text === undefined) {
        this.#users = EMPTY;
        this.#version = version;
        log.warn({ event: 'auth-file.missing', file }, 'users file removed: no users');
        return this.#users;
      }
      try {
        this.#users = parseUsers(text, formatOf(file));
        this.#version = version;
        this.#rejected = undefined;
        log.info({ event: 'auth-file.reloaded', file, users: this.#users.byId.size }, 'users file changed; reloaded');
      } catch (err) {
        this.#rejected = version;
        log.error({ event: 'auth-file.invalid', file, problem: (err as Error).message }, 'users file is invalid; keeping the previous users');
      }
    } catch (err) {
      log.error({ event: 'auth-file.unreadable', file, problem: (err as Error).message }, 'cannot read the users file; keeping the previous users');
    }
    return this.#users;
  }

  /**
   * The id a login name stands for: a full address is lower-cased; a bare local part (no "@")
   * is accepted only with `localPart` and when exactly one user has it.
   */
  async resolveLogin(username: string, localPart: boolean): Promise<string | undefined> {
    if (username.includes('@')) return canonicalAddress(username);
    if (!localPart) return undefined;
    const ids = (await this.users()).byLocal.get(canonicalAddress(username));
    return ids?.length === 1 ? ids[0] : undefined;
  }

  async lookup(id: string): Promise<UserRecord | undefined> {
    const e = (await this.users()).byId.get(canonicalAddress(id));
    return e && toRecord(e);
  }

  /**
   * The user when the password matches and the user is not disabled. Unknown users are checked
   * against a dummy hash, and disabled ones against their own, so every answer costs one scrypt.
   */
  async verify(id: string, password: string): Promise<UserRecord | undefined> {
    const e = (await this.users()).byId.get(canonicalAddress(id));
    const ok = await (this.#o.verifyPassword ?? verifyPassword)(password, e?.password ?? this.#dummy);
    return e && ok && !e.disabled ? toRecord(e) : undefined;
  }

  async list(): Promise<UserRecord[]> {
    return [...(await this.users()).byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map(toRecord);
  }

  async domains(): Promise<string[]> {
    const set = new Set([...(await this.users()).byId.keys()].map((id) => splitAddress(id).domain));
    return [...set].sort();
  }
}
