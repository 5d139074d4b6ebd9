/**
 * The maildrop as one POP3 session sees it (RFC 1939 §5): a snapshot of INBOX taken when the
 * session enters TRANSACTION. Message numbers 1..n map to store UIDs and sizes for the whole
 * session; messages arriving meanwhile are not shown, messages DELEd are only marked until QUIT.
 */
import type { FolderView } from '../store/mail-store.ts';

export interface DropMessage {
  /** 1-based message number. */
  readonly number: number;
  readonly uid: number;
  /** Octets as stored, which is what RETR sends (before dot-stuffing) for CRLF-stored mail. */
  readonly size: number;
}

export type Lookup =
  | { readonly ok: true; readonly message: DropMessage }
  | { readonly ok: false; readonly error: string };

export class Maildrop {
  readonly uidValidity: number;
  readonly #messages: DropMessage[];
  readonly #deleted = new Set<number>();
  /** Message numbers fully retrieved with RETR (they get \Seen at UPDATE). */
  readonly #retrieved = new Set<number>();

  constructor(view: Pick<FolderView, 'uidValidity' | 'messages'>) {
    this.uidValidity = view.uidValidity;
    this.#messages = view.messages().map((m, i) => ({ number: i + 1, uid: m.uid, size: m.size }));
  }

  /** Number of messages, deleted ones included (numbers are never reused in a session). */
  get count(): number {
    return this.#messages.length;
  }

  /** STAT: messages not marked deleted, and their total size. */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const m of this.#messages) {
      if (this.#deleted.has(m.number)) continue;
      count++;
      octets += m.size;
    }
    return { count, octets };
  }

  /** Messages not marked deleted, in order. */
  *live(): Generator<DropMessage> {
    for (const m of this.#messages) if (!this.#deleted.has(m.number)) yield m;
  }

  /** A message argument as the client sent it: a positive decimal number of a live message. */
  lookup(arg: string | undefined): Lookup {
    if (arg === undefined || !/^[0-9]{1,10}$/.test(arg)) return { ok: false, error: 'no such message' };
    const n = Number(arg);
    const m = n >= 1 ? this.#messages[n - 1] : undefined;
    if (!m) return { ok: false, error: 'no such message' };
    if (this.#deleted.has(n)) return { ok: false, error: `message ${n} already deleted` };
    return { ok: true, message: m };
  }

  /** UIDL: `<uidValidity>.<uid>`, stable across sessions while the folder's UIDVALIDITY stays. */
  uniqueId(m: DropMessage): string {
    return `${this.uidValidity}.${m.uid}`;
  }

  delete(m: DropMessage): void {
    this.#deleted.add(m.number);
  }

  retrieved(m: DropMessage): void {
    this.#retrieved.add(m.number);
  }

  /** RSET: unmark every deletion. */
  reset(): void {
    this.#deleted.clear();
  }

  get deletedCount(): number {
    return this.#deleted.size;
  }

  get retrievedCount(): number {
    return this.#retrieved.size;
  }

  /** UIDs to delete at UPDATE. */
  deletedUids(): number[] {
    return [...this.#deleted].sort((a, b) => a - b).map((n) => this.#messages[n - 1].uid);
  }

  /** UIDs retrieved and not deleted: marked \Seen at UPDATE. */
  seenUids(): number[] {
    return [...this.#retrieved].filter((n) => !this.#deleted.has(n)).sort((a, b) => a - b).map((n) => this.#messages[n - 1].uid);
  }
}
