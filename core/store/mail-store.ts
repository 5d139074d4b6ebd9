/**
 * The MailStore contract: what IMAP, POP3 and local delivery need from a mailbox, whatever keeps it
 * (Maildir is a plugin, plugins/maildir). Everything is addressed by a canonical user id
 * ("alice@example.test") and a folder name ("INBOX", "Sent", "Lists.ietf" with the store's delimiter).
 *
 * Scale: a folder of 100,000 messages must stay workable, so a view answers listings from memory
 * (ranged by UID), never rereads the folder per command, and streams message bodies.
 */
import type { Readable } from 'node:stream';
import { defineService } from '../services.ts';

export type UserId = string;

/** RFC 6154 §2 SPECIAL-USE attributes. */
export const SPECIAL_USES = ['\\Archive', '\\Drafts', '\\Junk', '\\Sent', '\\Trash'] as const;
export type SpecialUse = (typeof SPECIAL_USES)[number];

/** INBOX is case-insensitive (RFC 3501 §5.1); every other name is case-sensitive. */
export const INBOX = 'INBOX';

export function isInbox(name: string): boolean {
  return name.toUpperCase() === INBOX;
}

export interface FolderInfo {
  /** Full name, hierarchy levels joined by `MailStore.delimiter`; the inbox is always "INBOX". */
  readonly name: string;
  readonly specialUse?: SpecialUse;
  readonly subscribed: boolean;
  /** False for a name that is only subscribed (LSUB / RFC 5258 \NonExistent). */
  readonly exists: boolean;
  /** Some existing folder sits below this one (RFC 3348 \HasChildren). */
  readonly hasChildren: boolean;
}

/** STATUS items (RFC 3501 §6.3.10, RFC 7162 §3.1.2 HIGHESTMODSEQ). */
export interface FolderStatus {
  readonly messages: number;
  readonly recent: number;
  readonly unseen: number;
  readonly uidNext: number;
  readonly uidValidity: number;
  readonly highestModseq: number;
}

export interface MessageInfo {
  readonly uid: number;
  /** System flags (`\Seen` …) first, then keywords; never `\Recent` (see FolderView.isRecent). */
  readonly flags: readonly string[];
  readonly internalDate: Date;
  /** Size in bytes as stored (RFC822.SIZE when the message is stored with CRLF line ends). */
  readonly size: number;
  /** RFC 7162 mod-sequence of the last change to this message. */
  readonly modseq: number;
}

/** An inclusive UID range for paged listings; `limit` caps how many messages come back. */
export interface UidRange {
  readonly from?: number;
  readonly to?: number;
  readonly limit?: number;
}

/** A byte range of a stored message, `end` exclusive (IMAP partial fetch `<start.length>`). */
export interface ByteRange {
  readonly start: number;
  readonly end?: number;
}

export interface FlagUpdate {
  /** RFC 3501 §6.4.6: FLAGS replaces, +FLAGS adds, -FLAGS removes. */
  readonly mode: 'set' | 'add' | 'remove';
  readonly flags: readonly string[];
  /** RFC 7162 §3.1.3 UNCHANGEDSINCE: leave messages whose modseq is higher untouched. */
  readonly unchangedSince?: number;
}

export interface FlagChange {
  readonly uid: number;
  readonly flags: readonly string[];
  readonly modseq: number;
}

export interface FlagResult {
  /** Messages whose flags actually changed, with the new modseq. */
  readonly changed: readonly FlagChange[];
  /** UIDs left alone because of `unchangedSince` (the MODIFIED response code, RFC 7162 §3.1.3). */
  readonly modified: readonly number[];
}

/** COPYUID data (RFC 4315 §3): source UIDs and the destination UIDs, position by position. */
export interface CopyResult {
  readonly uidValidity: number;
  readonly sourceUids: readonly number[];
  readonly destUids: readonly number[];
}

/**
 * Message bytes to store. The `{ prefix, path }` form is the delivery path's: added header lines
 * (Return-Path, Delivered-To, …) followed by the spool file, streamed, never whole in memory.
 */
export type MessageSource =
  | Uint8Array
  | { readonly prefix?: Uint8Array; readonly path: string }
  | { readonly stream: AsyncIterable<Uint8Array> };

export interface AppendOptions {
  readonly flags?: readonly string[];
  /** RFC 3501 §6.3.11 date-time; defaults to now. */
  readonly internalDate?: Date;
  /** Create the folder when missing (delivery into Junk after a user deleted it); default false. */
  readonly create?: boolean;
}

/** APPENDUID data (RFC 4315 §3). */
export interface AppendResult {
  readonly uidValidity: number;
  readonly uid: number;
}

interface ChangeBase {
  readonly user: UserId;
  readonly folder: string;
  /**
   * FolderView.id of the view that caused it; a session skips its own echo. On `added`, set when
   * a view's COPY/MOVE brought the messages in (a user filing mail), absent for deliveries.
   */
  readonly origin?: string;
  /** True when learnt from another process (notifyExternal), so a relay does not send it back. */
  readonly external?: boolean;
}

/** What sessions on the same folder must hear about (IMAP EXISTS, FETCH FLAGS, EXPUNGE). */
export type FolderChange =
  | (ChangeBase & { readonly kind: 'added'; readonly uids: readonly number[] })
  | (ChangeBase & { readonly kind: 'flags'; readonly changes: readonly FlagChange[] })
  | (ChangeBase & { readonly kind: 'expunged'; readonly uids: readonly number[] })
  /** The folder was deleted or renamed away: views on it are dead (IMAP answers BYE or NO). */
  | (ChangeBase & { readonly kind: 'deleted' });

export type ChangeListener = (change: FolderChange) => void;

/**
 * An opened folder, what an IMAP SELECT/EXAMINE or a POP3 transaction holds. The message list it
 * answers from is shared by every view of the folder in the store instance; each session keeps its
 * own sequence-number map (RFC 3501 §2.3.1.2) from `uids()` and the change events.
 */
export interface FolderView {
  readonly id: string;
  readonly user: UserId;
  readonly folder: string;
  /** EXAMINE: every change through this view throws NOPERM and \Recent is not claimed. */
  readonly readOnly: boolean;
  readonly uidValidity: number;
  status(): FolderStatus;
  /** UIDs present now, ascending; a copy the session may keep as its sequence map. */
  uids(): readonly number[];
  /** Messages in a UID range, ascending (paging: next `from` = last uid + 1). */
  messages(range?: UidRange): readonly MessageInfo[];
  get(uid: number): MessageInfo | undefined;
  /** RFC 3501 §2.3.2 \Recent: this view is the first session to see the message. */
  isRecent(uid: number): boolean;
  /** The message bytes; throws EXPUNGEISSUE when the message is gone. */
  read(uid: number, range?: ByteRange): Promise<Readable>;
  /**
   * Optional, for readers of many messages (IMAP FETCH ENVELOPE of a folder): `each` gets up to
   * `length` bytes from the start of each message, once per UID, undefined when it cannot be read
   * (then `read` reports why). The bytes are valid only during the call (the buffer is reused).
   */
  readPrefixes?(uids: readonly number[], length: number, each: (uid: number, bytes: Buffer | undefined) => void): Promise<void>;
  /**
   * Optional, for a reader on another thread (IMAP's head worker): the file of each message, or
   * undefined when unknown. A file may be renamed meanwhile; `readPrefixes` then looks again.
   */
  filePaths?(uids: readonly number[]): (string | undefined)[];
  /** Pick up changes made outside this process (files dropped or renamed by other tools); fires events. */
  refresh(): Promise<void>;
  setFlags(uids: readonly number[], update: FlagUpdate): Promise<FlagResult>;
  copy(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** RFC 6851 MOVE: copy and expunge as one step; the source UIDs are reported expunged. */
  move(uids: readonly number[], destination: string): Promise<CopyResult>;
  /** Removes messages flagged \Deleted (only those among `uids` when given: RFC 4315 UID EXPUNGE). */
  expunge(uids?: readonly number[]): Promise<readonly number[]>;
  close(): Promise<void>;
}

export interface MailStore {
  /** Hierarchy delimiter of folder names (IMAP LIST). */
  readonly delimiter: string;
  listFolders(user: UserId): Promise<readonly FolderInfo[]>;
  createFolder(user: UserId, name: string): Promise<void>;
  /** Inferior folders stay (RFC 3501 §6.3.4); INBOX cannot be deleted. */
  deleteFolder(user: UserId, name: string): Promise<void>;
  /** Inferiors move too; renaming INBOX moves its messages and leaves it empty (RFC 3501 §6.3.5). */
  renameFolder(user: UserId, from: string, to: string): Promise<void>;
  subscribe(user: UserId, name: string): Promise<void>;
  unsubscribe(user: UserId, name: string): Promise<void>;
  status(user: UserId, name: string): Promise<FolderStatus>;
  open(user: UserId, name: string, options?: { readonly readOnly?: boolean }): Promise<FolderView>;
  /** IMAP APPEND and local delivery (folder "INBOX", or "Junk" for quarantine). */
  append(user: UserId, folder: string, source: MessageSource, options?: AppendOptions): Promise<AppendResult>;
  /** Change events of one folder; returns the unsubscribe function. */
  watch(user: UserId, folder: string, listener: ChangeListener): () => void;
  /** Every change in this store, for a relay to other processes (skip `external` ones). */
  watchAll(listener: ChangeListener): () => void;
  close(): Promise<void>;
}

/** The service key under which a store plugin (maildir) provides the MailStore. */
export const MAIL_STORE = defineService<MailStore>('mailStore');

/** Index of the first UID ≥ `uid` in an ascending list (binary search), for ranged listings. */
export function lowerBound(sorted: ArrayLike<number>, uid: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid]) < uid) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
