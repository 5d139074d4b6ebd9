import { constants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { SpoolEnvelope } from './envelope.ts';
import { QUEUE_ID } from './ids.ts';
import { DirSyncs } from '../fs/dir-syncs.ts';

/**
 * The durable spool. Each message is one body file `<id>.msg` and one envelope `<id>.env` in the
 * queue directory. A body without an envelope was never acknowledged and is removed at start.
 *
 * Commit protocol (what makes "250 = on disk" true, design.md "Message flow and durability"):
 *   1. the body is streamed into `<id>.msg` while DATA arrives, then fsynced;
 *   2. the envelope is written to `<id>.env.tmp`, fsynced, renamed to `<id>.env`;
 *   3. the directory is fsynced, so both names survive a crash;
 *   4. only then does SMTP answer 250.
 * State updates after that (a recipient delivered) rewrite the envelope by rename without fsync:
 * a crash can lose such an update, which means a redelivery (at-least-once), never a loss.
 */
/** unlink, quiet when already gone (cheaper than rm({ force }), which lstat()s first). */
async function unlinkIfExists(p: string): Promise<void> {
  try {
    await unlink(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

export class Spool {
  readonly dir: string;
  readonly #fsync: boolean;
  readonly #dirSyncs = new DirSyncs({ open });

  constructor(dataDir: string, opts: { fsync?: boolean } = {}) {
    this.dir = path.join(dataDir, 'queue');
    this.#fsync = opts.fsync ?? true;
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
  }

  bodyPath(id: string): string {
    return path.join(this.dir, `${id}.msg`);
  }

  envPath(id: string): string {
    return path.join(this.dir, `${id}.env`);
  }

  /** Create the body file for a new message (exclusive: ids never collide silently). */
  async createBody(id: string): Promise<FileHandle> {
    return open(this.bodyPath(id), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  }

  /** Steps 1 (fsync of the body: the caller passes the still-open handle) to 3. */
  async commit(env: SpoolEnvelope, body: FileHandle): Promise<void> {
    if (this.#fsync) await body.sync();
    await body.close();
    const tmp = this.envPath(env.id) + '.tmp';
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(env));
      if (this.#fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.envPath(env.id));
    if (this.#fsync) await this.#dirSyncs.sync(this.dir);
  }

  /** Drop a message that was never acknowledged. */
  async abandon(id: string, body?: FileHandle): Promise<void> {
    await body?.close().catch(() => {});
    await unlinkIfExists(this.bodyPath(id));
  }

  async readEnvelope(id: string): Promise<SpoolEnvelope> {
    return JSON.parse(await readFile(this.envPath(id), 'utf8')) as SpoolEnvelope;
  }

  /** Rewrite the envelope after a state change (atomic rename; see the class comment on fsync). */
  async updateEnvelope(env: SpoolEnvelope): Promise<void> {
    const tmp = this.envPath(env.id) + '.tmp';
    await writeFile(tmp, JSON.stringify(env), { mode: 0o600 });
    await rename(tmp, this.envPath(env.id));
  }

  /** All recipients are final: remove the envelope first, so a crash leaves only an orphan body. */
  async remove(id: string): Promise<void> {
    await unlinkIfExists(this.envPath(id));
    await unlinkIfExists(this.bodyPath(id));
  }

  /**
   * Recovery at start: every id with an envelope, and the removal of bodies and temp files
   * that never got one (those were never acknowledged with 250).
   */
  async recover(owns: (id: string) => boolean = () => true): Promise<{ ids: string[]; orphans: number; corrupt: string[] }> {
    const names = await readdir(this.dir);
    const envs = new Set<string>();
    const bodies = new Set<string>();
    const corrupt: string[] = [];
    let orphans = 0;
    for (const n of names) {
      const id = n.slice(0, 20);
      if (!QUEUE_ID.test(id) || !owns(id)) continue;
      if (n === `${id}.env`) envs.add(id);
      else if (n === `${id}.msg`) bodies.add(id);
      else if (n.endsWith('.tmp')) await rm(path.join(this.dir, n), { force: true });
    }
    for (const id of bodies) {
      if (!envs.has(id)) {
        await rm(this.bodyPath(id), { force: true });
        orphans++;
      }
    }
    const ids: string[] = [];
    for (const id of [...envs].sort()) {
      if (!bodies.has(id)) {
        corrupt.push(id);
        continue;
      }
      ids.push(id);
    }
    return { ids, orphans, corrupt };
  }
}
