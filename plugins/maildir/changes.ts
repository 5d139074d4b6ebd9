/**
 * Collects what one locked step changed in a folder, then reports it as FolderChange events: one event
 * per kind, so an IMAP session sends one EXISTS for a burst of deliveries, not one per message.
 */
import type { FlagChange, FolderChange } from '../../core/store/mail-store.ts';
import type { FolderIndex, IndexRecord } from './uid-index.ts';

export interface ChangeTarget {
  readonly user: string;
  readonly folder: string;
}

export class ChangeSet {
  readonly added: number[] = [];
  readonly expunged: number[] = [];
  /** UIDs whose flags changed; the flags are read when the events are built, after the step. */
  readonly flagged = new Set<number>();

  record(record: IndexRecord): void {
    if (record.op === 'add') this.added.push(record.entry.uid);
    else if (record.op === 'flags') this.flagged.add(record.uid);
    else this.expunged.push(record.uid);
  }

  /** What changed between two loads of the index (another process replaced the snapshot). */
  diff(before: FolderIndex, after: FolderIndex): void {
    for (const [uid, entry] of before.entries) {
      const now = after.entries.get(uid);
      if (!now) this.expunged.push(uid);
      else if (now.modseq !== entry.modseq) this.flagged.add(uid);
    }
    for (const uid of after.entries.keys()) if (!before.entries.has(uid)) this.added.push(uid);
  }

  /** Forgets what was recorded (after it has been reported). */
  clear(): void {
    this.added.length = 0;
    this.expunged.length = 0;
    this.flagged.clear();
  }

  get empty(): boolean {
    return this.added.length === 0 && this.expunged.length === 0 && this.flagged.size === 0;
  }

  /** Events in the order a session must apply them; `flagsOf` gives current flags (undefined if gone). */
  events(
    target: ChangeTarget,
    flagsOf: (uid: number) => FlagChange | undefined,
    extra: { readonly origin?: string | undefined; readonly external?: boolean | undefined },
  ): FolderChange[] {
    const base = {
      user: target.user,
      folder: target.folder,
      ...(extra.origin !== undefined && { origin: extra.origin }),
      ...(extra.external === true && { external: true }),
    };
    const out: FolderChange[] = [];
    const gone = new Set(this.expunged);
    const fresh = new Set(this.added);
    // A message added and expunged within one step was never visible: report neither.
    const expunged = this.expunged.filter((uid) => !fresh.has(uid));
    const added = this.added.filter((uid) => !gone.has(uid));
    const changes = [...this.flagged].flatMap((uid) => {
      const change = gone.has(uid) ? undefined : flagsOf(uid);
      return change ? [change] : [];
    });
    if (expunged.length > 0) out.push({ ...base, kind: 'expunged', uids: expunged });
    if (added.length > 0) out.push({ ...base, kind: 'added', uids: added });
    if (changes.length > 0) out.push({ ...base, kind: 'flags', changes });
    return out;
  }
}
