/**
 * Sequence maps shared between sessions: sessions that selected the same folder in the same state
 * (every IDLE client on INBOX) hold equal UID lists, so they share one frozen array and copy it only
 * when their own map diverges (SelectedMailbox copies on write). A 10,000-message folder costs one
 * list per folder state instead of ~80 KB per session.
 */
import { Lru } from './message/cache.ts';

/** Folders whose latest list is remembered; lists themselves live only while a session holds them. */
const MAX_FOLDERS = 4096;

export class SharedUidLists {
  readonly #lists = new Lru<WeakRef<readonly number[]>>(MAX_FOLDERS);

  /** `fresh` (owned by the caller, not mutated afterwards) or an equal list already shared. */
  share(key: string, fresh: number[]): readonly number[] {
    const old = this.#lists.get(key)?.deref();
    if (old && sameList(old, fresh)) return old;
    const list = Object.freeze(fresh);
    this.#lists.set(key, new WeakRef(list));
    return list;
  }
}

function sameList(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
