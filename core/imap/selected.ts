/**
 * The selected mailbox of one session: its sequence-number map (RFC 3501 §2.3.1.2) and the changes
 * other sessions made that it has not been told about yet. Changes are queued as they happen and
 * turned into untagged EXISTS / RECENT / EXPUNGE / FETCH FLAGS only when the session flushes, at the
 * points RFC 3501 §7.4.1 and §5.5 allow (no EXPUNGE during FETCH, STORE or SEARCH).
 */
import { lowerBound, type FolderView, type MailStore, type FlagChange, type FolderChange } from '../store/mail-store.ts';
import { flagList, SYSTEM_FLAGS } from './responses.ts';
import type { SharedUidLists } from './shared-uids.ts';

export class SelectedMailbox {
  readonly view: FolderView;
  /** Sequence map: uids[seq - 1]. Shared (frozen) until this session's map changes: see #own. */
  #uids: readonly number[];
  /** #uids is this session's own copy (else shared through SharedUidLists and copied on first write). */
  #own: boolean;
  #recent = 0;
  readonly #expunged = new Set<number>();
  readonly #flags = new Map<number, FlagChange>();
  #added = false;
  #gone = false;
  /** Keywords announced in FLAGS so far (RFC 3501 §7.2.6: a new one means a new FLAGS response). */
  readonly #keywords = new Set<string>();
  readonly #unwatch: () => void;

  constructor(store: MailStore, view: FolderView, onChange: () => void, shared?: SharedUidLists) {
    this.view = view;
    const uids = [...view.uids()];
    this.#own = !shared;
    this.#uids = shared ? shared.share(`${view.user}\u0000${view.folder}\u0000${view.uidValidity}`, uids) : uids;
    for (const u of this.#uids) {
      if (view.isRecent(u)) this.#recent++;
      for (const f of view.get(u)?.flags ?? []) if (!f.startsWith('\\')) this.#keywords.add(f);
    }
    this.#unwatch = store.watch(view.user, view.folder, (ch) => {
      this.#note(ch);
      onChange();
    });
  }

  /** Keywords in use, for the FLAGS response. */
  get keywords(): readonly string[] {
    return [...this.#keywords];
  }

  /** FLAGS and PERMANENTFLAGS lines (RFC 3501 §7.2.6, §7.1) for the flags now known. */
  flagsLines(): string[] {
    const flags = [...SYSTEM_FLAGS, ...this.#keywords].join(' ');
    return [
      `* FLAGS (${flags})`,
      `* OK [PERMANENTFLAGS (${this.view.readOnly ? '' : flags + ' \\*'})] ${this.view.readOnly ? 'No permanent flags permitted' : 'Flags permitted'}`,
    ];
  }

  /** Notes the keywords among `flags`; true when one was not announced before. */
  learnKeywords(flags: readonly string[]): boolean {
    let fresh = false;
    for (const f of flags) {
      if (f.startsWith('\\') || this.#keywords.has(f)) continue;
      this.#keywords.add(f);
      fresh = true;
    }
    return fresh;
  }

  #mutable(): number[] {
    if (!this.#own) {
      this.#uids = this.#uids.slice();
      this.#own = true;
    }
    return this.#uids as number[];
  }

  get uids(): readonly number[] {
    return this.#uids;
  }

  get exists(): number {
    return this.#uids.length;
  }

  get recent(): number {
    return this.#recent;
  }

  /** The folder was deleted or renamed away under this session. */
  get gone(): boolean {
    return this.#gone;
  }

  get hasPending(): boolean {
    return this.#added || this.#expunged.size > 0 || this.#flags.size > 0 || this.#gone;
  }

  seqOf(uid: number): number {
    const i = lowerBound(this.#uids, uid);
    return i < this.#uids.length && this.#uids[i] === uid ? i + 1 : 0;
  }

  #note(ch: FolderChange): void {
    switch (ch.kind) {
      case 'added':
        this.#added = true;
        break;
      case 'expunged':
        for (const u of ch.uids) {
          this.#expunged.add(u);
          this.#flags.delete(u);
        }
        break;
      case 'flags':
        // Our own STORE answers for itself (RFC 3501 §6.4.6); only others' changes are queued.
        if (ch.origin === this.view.id) break;
        for (const f of ch.changes) this.#flags.set(f.uid, f);
        break;
      case 'deleted':
        this.#gone = true;
        break;
    }
  }

  /** Our own EXPUNGE/MOVE: remove now and return the `* n EXPUNGE` lines, in order. */
  expungeNow(uids: readonly number[]): string[] {
    const out: string[] = [];
    for (const u of [...uids].sort((a, b) => a - b)) {
      this.#expunged.delete(u);
      this.#flags.delete(u);
      const seq = this.seqOf(u);
      if (!seq) continue;
      if (this.view.isRecent(u)) this.#recent = Math.max(0, this.#recent - 1);
      this.#mutable().splice(seq - 1, 1);
      out.push(`* ${seq} EXPUNGE`);
    }
    return out;
  }

  /**
   * Untagged updates due now. `expunge` false holds EXPUNGEs back (during FETCH/STORE/SEARCH); then
   * flags of messages that are going away are held back too, and EXISTS still counts them.
   */
  flush(opts: { expunge: boolean; modseq: boolean }): string[] {
    const out: string[] = [];
    let newFlags = false;
    if (opts.expunge && this.#expunged.size) {
      out.push(...this.expungeNow([...this.#expunged]));
      this.#expunged.clear();
    }
    if (this.#added) {
      this.#added = false;
      const last = this.#uids.length ? this.#uids[this.#uids.length - 1] : 0;
      const now = this.view.uids();
      let fresh = 0;
      for (let i = lowerBound(now, last + 1); i < now.length; i++) {
        this.#mutable().push(now[i]);
        if (this.learnKeywords(this.view.get(now[i])?.flags ?? [])) newFlags = true;
        if (this.view.isRecent(now[i])) this.#recent++;
        fresh++;
      }
      if (fresh) out.push(`* ${this.#uids.length} EXISTS`, `* ${this.#recent} RECENT`);
    }
    const fetches: string[] = [];
    for (const [uid, f] of this.#flags) {
      if (this.#expunged.has(uid)) continue;
      const seq = this.seqOf(uid);
      this.#flags.delete(uid);
      if (!seq) continue;
      if (this.learnKeywords(f.flags)) newFlags = true;
      const flags = flagList(f.flags, this.view.isRecent(uid));
      fetches.push(`* ${seq} FETCH (UID ${uid} FLAGS ${flags}${opts.modseq ? ` MODSEQ (${f.modseq})` : ''})`);
    }
    // The new flag set comes before the FETCHes that use it.
    return [...out, ...(newFlags ? this.flagsLines() : []), ...fetches];
  }

  async close(): Promise<void> {
    this.#unwatch();
    await this.view.close();
  }
}
