/**
 * A session's handle on an open folder (IMAP SELECT/EXAMINE, a POP3 maildrop). The message list is the
 * folder state's, shared with every other view; what is the session's own is its \Recent set and its
 * id, which tags the change events it causes.
 */
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { MailStoreError } from '../../core/store/errors.ts';
import { normalizeFlags } from '../../core/store/flags.ts';
import type {
  ByteRange,
  CopyResult,
  FlagResult,
  FlagUpdate,
  FolderStatus,
  FolderView,
  MessageInfo,
  UidRange,
} from '../../core/store/mail-store.ts';
import type { FolderState } from './folder-state.ts';

/**
 * Ranges up to this size are read into one Buffer (fs-port readRange): for a typical message a
 * FileHandle read stream costs several times the CPU of the read itself (IMAP FETCH/SEARCH over a
 * whole folder reads every file).
 */
const SMALL_READ = 256 * 1024;

/** A Readable with the data already pushed: cheaper than Readable.from's async iteration. */
function bufferStream(buf: Buffer): Readable {
  const out = new Readable({ read() {} });
  if (buf.length) out.push(buf);
  out.push(null);
  return out;
}

/** What a view needs from its store: cross-folder operations and giving the state back. */
export interface ViewHost {
  copy(from: FolderState, uids: readonly number[], destination: string, origin?: string): Promise<CopyResult>;
  move(from: FolderState, uids: readonly number[], destination: string, origin: string): Promise<CopyResult>;
  release(state: FolderState): void;
  readPrefixes(from: FolderState, uids: readonly number[], length: number, each: (uid: number, bytes: Buffer | undefined) => void): Promise<void>;
}

export class MaildirFolderView implements FolderView {
  readonly id = randomUUID();
  private readonly recent = new Set<number>();
  private closed = false;

  constructor(
    private readonly host: ViewHost,
    private readonly state: FolderState,
    readonly readOnly: boolean,
  ) {}

  get user(): string {
    return this.state.user;
  }

  get folder(): string {
    return this.state.folder;
  }

  get uidValidity(): number {
    return this.state.uidValidity;
  }

  status(): FolderStatus {
    this.assertOpen();
    return this.state.status();
  }

  /** A copy: the session's sequence map must not change under it until it reports the change. */
  uids(): readonly number[] {
    this.assertOpen();
    return this.state.uids().slice();
  }

  messages(range?: UidRange): readonly MessageInfo[] {
    this.assertOpen();
    return this.state.messages(range);
  }

  get(uid: number): MessageInfo | undefined {
    this.assertOpen();
    return this.state.get(uid);
  }

  isRecent(uid: number): boolean {
    return this.recent.has(uid);
  }

  async read(uid: number, range?: ByteRange): Promise<Readable> {
    this.assertOpen();
    const start = range?.start ?? 0;
    if (range?.end !== undefined && range.end - start <= SMALL_READ) {
      // Still fails for an expunged message, as opening it does, even for an empty range.
      return bufferStream(await this.state.readMessage(uid, start, Math.max(0, range.end - start)));
    }
    const handle = await this.state.openMessage(uid);
    // createReadStream's `end` is inclusive; the stream closes the handle when done.
    return handle.createReadStream({ start, end: range?.end === undefined ? undefined : range.end - 1 });
  }

  /** FolderView.readPrefixes: heads of many messages in bounded synchronous slices (prefix-reader.ts). */
  async readPrefixes(uids: readonly number[], length: number, each: (uid: number, bytes: Buffer | undefined) => void): Promise<void> {
    this.assertOpen();
    return this.host.readPrefixes(this.state, uids, length, each);
  }

  /** FolderView.filePaths: where each message's file is now (IMAP's head worker reads them itself). */
  filePaths(uids: readonly number[]): (string | undefined)[] {
    this.assertOpen();
    return uids.map((u) => this.state.pathOf(u));
  }

  async refresh(): Promise<void> {
    this.assertOpen();
    await this.state.refresh();
    await this.claimRecent();
  }

  /** Takes over the messages still in new/: this view is the first to see them. */
  async claimRecent(): Promise<void> {
    if (this.readOnly) return;
    for (const uid of await this.state.claimRecent()) this.recent.add(uid);
  }

  async setFlags(uids: readonly number[], update: FlagUpdate): Promise<FlagResult> {
    this.assertWritable();
    return this.state.setFlags(uids, { ...update, flags: normalizeFlags(update.flags) }, { origin: this.id });
  }

  /** COPY is allowed from a read-only view (RFC 3501 §6.4.7 needs only the selected state). */
  async copy(uids: readonly number[], destination: string): Promise<CopyResult> {
    this.assertOpen();
    return this.host.copy(this.state, uids, destination, this.id);
  }

  async move(uids: readonly number[], destination: string): Promise<CopyResult> {
    this.assertWritable();
    return this.host.move(this.state, uids, destination, this.id);
  }

  async expunge(uids?: readonly number[]): Promise<readonly number[]> {
    this.assertWritable();
    return this.state.expunge(uids, { origin: this.id });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.host.release(this.state);
  }

  private assertOpen(): void {
    if (this.closed) throw new MailStoreError('CANNOT', 'folder view is closed');
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.readOnly) throw new MailStoreError('NOPERM', 'folder is open read-only');
  }
}
