import { open } from 'node:fs/promises';

/**
 * Group commit for directory fsyncs. A caller needs a fsync of the directory that *started after*
 * its own rename or create; callers that arrive while one is running share the next one. Under
 * load, N commits cost about two directory fsyncs instead of N.
 */
export class DirSyncer {
  #running: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(
    private readonly dir: string,
    private readonly fsyncDir: (dir: string) => Promise<void> = fsyncDirectory,
  ) {}

  sync(): Promise<void> {
    if (!this.#running) {
      this.#running = this.#once().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    }
    // One is in flight and may have started before our change: wait for the one after it.
    this.#next ??= this.#running.then(() => {
      this.#next = undefined;
      return this.sync();
    });
    return this.#next;
  }

  #once(): Promise<void> {
    return this.fsyncDir(this.dir);
  }
}

export async function fsyncDirectory(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
