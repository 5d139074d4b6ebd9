/**
 * Group commit for directory fsyncs, one state per directory (the spool directory, a Maildir
 * folder's new/ or cur/). A rename survives a
 * crash once a fsync of its directory that STARTED after the rename has finished; callers that arrive
 * while one is running share the next one. Under load, N deliveries into one folder cost about two
 * directory fsyncs instead of N, and the directory stays open while fsyncs follow each other.
 */
/** What the syncer needs of a file system: node:fs/promises, or a test double. */
export interface DirFs {
  open(path: string, flags: 'r'): Promise<Handle>;
}

interface Handle {
  sync(): Promise<void>;
  close(): Promise<void>;
}

interface DirState {
  running: Promise<void> | undefined;
  next: Promise<void> | undefined;
  handle: Handle | undefined;
}

export class DirSyncs {
  private readonly dirs = new Map<string, DirState>();

  constructor(private readonly fs: DirFs) {}

  /** Resolves once a fsync of `dir` that started after this call has completed. */
  sync(dir: string): Promise<void> {
    let state = this.dirs.get(dir);
    if (!state) {
      state = { running: undefined, next: undefined, handle: undefined };
      this.dirs.set(dir, state);
    }
    if (!state.running) return this.start(dir, state);
    // One is in flight and may have started before our rename: wait for the one after it.
    const current = state.running;
    state.next ??= current.then(
      () => this.afterCurrent(dir, state),
      () => this.afterCurrent(dir, state),
    );
    return state.next;
  }

  private afterCurrent(dir: string, state: DirState): Promise<void> {
    state.next = undefined;
    return this.start(dir, state);
  }

  private start(dir: string, state: DirState): Promise<void> {
    const run = (async () => {
      state.handle ??= await this.fs.open(dir, 'r');
      await state.handle.sync();
    })();
    state.running = run;
    const settle = (failed: boolean): void => {
      if (state.running !== run) return;
      state.running = undefined;
      if (state.next && !failed) return; // another fsync follows at once: keep the directory open
      const handle = state.handle;
      state.handle = undefined;
      handle?.close().catch(() => undefined);
      // Nobody waiting: forget the directory, so the map holds only directories in use.
      if (!state.next && this.dirs.get(dir) === state) this.dirs.delete(dir);
    };
    run.then(
      () => settle(false),
      () => settle(true),
    );
    return run;
  }
}
