/**
 * The folder states of one store instance: one shared state per folder directory while anything holds
 * it (views, appends in progress), plus idle ones kept in a bounded LRU (by message count) so deliveries
 * to folders nobody has open stay cheap.
 */
import { MailStoreError } from '../../core/store/errors.ts';
import { folderDir } from './folder-name.ts';
import { type FolderHost, FolderState } from './folder-state.ts';
import { folderExists } from './mailbox-layout.ts';

/** A user's Maildir: canonical id and directory. */
export interface Mailbox {
  readonly id: string;
  readonly dir: string;
}

export class FolderCache {
  /** Folder dir → its state (or its load in progress). */
  private readonly states = new Map<string, Promise<FolderState>>();
  /** Folder dir → state nobody holds (with its size when released), oldest first. */
  private readonly idle = new Map<string, { readonly state: FolderState; readonly size: number }>();
  /** Sum of the sizes in `idle`. */
  private idleTotal = 0;

  constructor(
    private readonly host: FolderHost,
    private readonly idleCacheMessages: number,
  ) {}

  /**
   * The folder's shared state (`folder` canonical), held until release(). A state already loaded is
   * first brought up to date (journal, and a rescan when new/ or cur/ changed); `refresh: false` skips
   * that (append: its registration catches up with the journal under the lock anyway).
   */
  async acquire(u: Mailbox, folder: string, options: { readonly refresh?: boolean } = {}): Promise<FolderState> {
    const dir = folderDir(u.dir, folder);
    let pending = this.states.get(dir);
    let fresh = false;
    if (!pending) {
      fresh = true;
      pending = (async () => {
        if (!(await folderExists(this.host.fs, dir))) throw new MailStoreError('NONEXISTENT', `folder ${folder} does not exist`);
        const state = new FolderState(this.host, u.id, folder, dir, u.dir);
        await state.load();
        return state;
      })();
      this.states.set(dir, pending);
      pending.catch(() => this.states.get(dir) === pending && this.states.delete(dir));
    }
    const state = await pending;
    if (!state.alive) {
      if (this.states.get(dir) === pending) this.states.delete(dir);
      return this.acquire(u, folder, options);
    }
    state.refs++;
    this.unidle(dir);
    if (!fresh && options.refresh !== false) {
      try {
        await state.refresh();
      } catch (err) {
        this.release(state);
        // Deleted or re-indexed behind our back: start over from disk (NONEXISTENT if really gone).
        if (!state.alive) return this.acquire(u, folder);
        throw err;
      }
    }
    return state;
  }

  release(state: FolderState): void {
    state.refs--;
    if (state.refs > 0) return;
    this.unidle(state.dir);
    if (!state.alive) return;
    this.idle.set(state.dir, { state, size: state.size });
    this.idleTotal += state.size;
    for (const [dir, s] of this.idle) {
      if (this.idleTotal <= this.idleCacheMessages) break;
      if (!s.state.idle) continue;
      this.unidle(dir);
      this.states.delete(dir);
    }
  }

  /** The live state of a folder directory, if one is loaded. */
  async loaded(dir: string): Promise<FolderState | undefined> {
    const state = await this.states.get(dir)?.catch(() => undefined);
    return state?.alive ? state : undefined;
  }

  /** A folder went away (deleted, renamed): its state dies, its sessions hear 'deleted'. */
  async forget(u: Mailbox, folder: string): Promise<void> {
    const dir = folderDir(u.dir, folder);
    const state = await this.loaded(dir);
    this.states.delete(dir);
    this.unidle(dir);
    if (state) state.kill();
    else this.host.emit({ user: u.id, folder, kind: 'deleted' });
  }

  clear(): void {
    this.states.clear();
    this.idle.clear();
    this.idleTotal = 0;
  }

  private unidle(dir: string): void {
    const entry = this.idle.get(dir);
    if (!entry) return;
    this.idle.delete(dir);
    this.idleTotal -= entry.size;
  }
}
