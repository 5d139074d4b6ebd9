import { constants } from 'node:fs';
import { access, mkdir, open, opendir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { SpoolEnvelope } from './envelope.ts';
import { QUEUE_ID } from './ids.ts';
import { DirSyncs } from '../fs/dir-syncs.ts';
import { readHead, unlinkIfExists } from './small-io.ts';

/**
 * The durable spool. Each message is one body file `<id>.msg` and one envelope `<id>.env` in the
 * queue directory. A body without an envelope was never acknowledged and is removed at start.
 *
 * Commit protocol (what makes "250 = on disk" true, design.md "Message flow and durability"):
 *   1. the body is streamed into `<id>.msg` while DATA arrives, then fsynced;
 *   2. the envelope is written to `<id>.env.tmp`, fsynced, renamed to `<id>.env`;
 *   3. the directory is fsynced, so both names survive a crash;
 *   4. only then does SMTP answer 250.
 * State updates after that (a recipient delivered) rewrite the envelope the same way (fsync,
 * rename, directory fsync), and a finished message's envelope is unlinked and the directory
 * fsynced before it is forgotten: after a crash, only what was in flight (the next hop's 250
 * received, the update not yet on disk) can go out twice, the window RFC 5321 §6.1 accepts.
 *
 * Schedule hints: a message whose only pending recipients are remote ones waiting for a later
 * attempt has an empty file `<id>.next-<base36 ms>` beside it, so a restart rebuilds the schedule
 * from file names alone instead of reading a million envelopes. A hint is only ever early (a
 * message woken too soon is read, found not due and rescheduled) or missing (due at once).
 */
const HINT = '.next-';
/**
 * Present while remote delivery is held (`pochta queue hold`): the hold survives a restart and can
 * be set on a stopped server. Not a queue id, so recovery and listings never take it for a message.
 */
const HOLD_FILE = 'hold-remote';

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

  hintPath(id: string, at: number): string {
    return path.join(this.dir, `${id}${HINT}${at.toString(36)}`);
  }

  /** Point the hint from `from` to `to` (either may be absent): the new one is made before the old one goes. */
  async moveHint(id: string, from: number | undefined, to: number | undefined): Promise<void> {
    if (from === to) return;
    if (to !== undefined) await writeFile(this.hintPath(id, to), '', { mode: 0o600 });
    if (from !== undefined) await unlinkIfExists(this.hintPath(id, from));
  }

  /** Whether remote delivery is held (the marker file exists). */
  async isHeld(): Promise<boolean> {
    try {
      await access(path.join(this.dir, HOLD_FILE));
      return true;
    } catch {
      return false;
    }
  }

  /** Set or lift the hold; made durable, so a crash right after the command does not undo it. */
  async setHeld(held: boolean): Promise<void> {
    if (held) await writeFile(path.join(this.dir, HOLD_FILE), '', { mode: 0o600 });
    else await unlinkIfExists(path.join(this.dir, HOLD_FILE));
    if (this.#fsync) await this.#dirSyncs.sync(this.dir);
  }

  /** Create the body file for a new message (exclusive: ids never collide silently). */
  async createBody(id: string): Promise<FileHandle> {
    return open(this.bodyPath(id), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  }

  /** Steps 1 (fsync of the body: the caller passes the still-open handle) to 3. */
  async commit(env: SpoolEnvelope, body: FileHandle): Promise<void> {
    if (this.#fsync) await body.sync();
    await body.close();
    await this.updateEnvelope(env);
  }

  /** Drop a message that was never acknowledged. */
  async abandon(id: string, body?: FileHandle): Promise<void> {
    await body?.close().catch(() => {});
    await unlinkIfExists(this.bodyPath(id));
  }

  /** Most envelopes are small: one read into a buffer of this size (no fstat, no read for the end). */
  static readonly ENVELOPE_READ = 16 * 1024;

  async readEnvelope(id: string): Promise<SpoolEnvelope> {
    const file = this.envPath(id);
    const { bytes, whole } = await readHead(file, Spool.ENVELOPE_READ);
    return JSON.parse(whole ? bytes.toString('utf8') : await readFile(file, 'utf8')) as SpoolEnvelope;
  }

  /**
   * Rewrite the envelope after a state change: written and fsynced aside, renamed over the old
   * one, the directory fsynced (group commit). Once this resolves a crash cannot bring back the
   * old state, so a recipient delivered is not delivered again.
   */
  async updateEnvelope(env: SpoolEnvelope): Promise<void> {
    const tmp = this.envPath(env.id) + '.tmp';
    if (!this.#fsync) {
      await writeFile(tmp, JSON.stringify(env), { mode: 0o600 });
      await rename(tmp, this.envPath(env.id));
      return;
    }
    // Also the first write of an envelope (commit): the message exists from this rename on.
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(JSON.stringify(env));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.envPath(env.id));
    await this.#dirSyncs.sync(this.dir);
  }

  /**
   * All recipients are final: the envelope goes first and its removal is made durable (a crash
   * after this does not deliver the message again); then the body, which alone would only be an
   * orphan removed at the next start.
   */
  async remove(id: string, hintAt?: number): Promise<void> {
    await unlinkIfExists(this.envPath(id));
    if (this.#fsync) await this.#dirSyncs.sync(this.dir);
    await unlinkIfExists(this.bodyPath(id));
    if (hintAt !== undefined) await unlinkIfExists(this.hintPath(id, hintAt));
  }

  /** Every queued id (with an envelope), streamed from the directory in no particular order. */
  async *ids(): AsyncGenerator<string> {
    for await (const d of await opendir(this.dir, { bufferSize: 512 })) {
      const n = d.name;
      if (n.length === 24 && n.endsWith('.env') && QUEUE_ID.test(n.slice(0, 20))) yield n.slice(0, 20);
    }
  }

  /** Hint files of one id (an administrator's change outside the scheduler removes them). */
  async removeHints(id: string): Promise<void> {
    for await (const d of await opendir(this.dir, { bufferSize: 512 })) {
      if (d.name.startsWith(id + HINT)) await unlinkIfExists(path.join(this.dir, d.name));
    }
  }

  /**
   * Recovery at start: every id with an envelope and body is handed to `onMessage` with its
   * schedule hint (if any); bodies and temp files that never got an envelope (never acknowledged
   * with 250) are removed. The directory is streamed and one small integer is held per id while
   * the two files of a message are paired, never the list of names.
   */
  async recover(
    owns: (id: string) => boolean = () => true,
    onMessage?: (id: string, hintAt: number | undefined) => void,
  ): Promise<{ ids: string[]; count: number; waiting: number; orphans: number; corrupt: string[] }> {
    // value = hint (whole seconds from `base`, rounded down: early, never late) × 8 + flag bits;
    // small integers stay unboxed in the map.
    const ENV = 1;
    const MSG = 2;
    const HAS_HINT = 4;
    const base = Math.floor(Date.now() / 1000);
    const LIMIT = 2 ** 27;
    const seen = new Map<string, number>();
    const scratch = Buffer.allocUnsafe(20);
    // A fresh 20-character string: a slice of the file name would keep the whole name alive.
    const idOf = (n: string) => {
      scratch.write(n, 0, 20, 'latin1');
      return scratch.toString('latin1', 0, 20);
    };
    /** Ids whose hint files need a second look: several, or one that does not parse. */
    const recheck = new Set<string>();
    for await (const d of await opendir(this.dir, { bufferSize: 256 })) {
      const n = d.name;
      const key = n.slice(0, 20);
      if (!QUEUE_ID.test(key) || !owns(key)) continue;
      const rest = n.slice(20);
      const cur = seen.get(key);
      const set = (v: number) => seen.set(cur === undefined ? idOf(n) : key, v);
      if (rest === '.env') set((cur ?? 0) | ENV);
      else if (rest === '.msg') set((cur ?? 0) | MSG);
      else if (rest.startsWith(HINT)) {
        const at = parseInt(rest.slice(HINT.length), 36);
        const had = cur !== undefined && (cur & HAS_HINT) !== 0;
        if (had || !Number.isFinite(at)) recheck.add(idOf(n));
        if (!Number.isFinite(at)) continue;
        const sec = Math.max(-LIMIT, Math.min(LIMIT, Math.floor(at / 1000) - base));
        // Two hints (a crash between making the new one and removing the old): the earlier is safe.
        if (had && Math.floor(cur / 8) <= sec) continue;
        set(sec * 8 + HAS_HINT + ((cur ?? 0) & (ENV | MSG)));
      } else if (n.endsWith('.tmp')) await rm(path.join(this.dir, n), { force: true });
    }
    let orphans = 0;
    let count = 0;
    let waiting = 0;
    const ids: string[] = [];
    const corrupt: string[] = [];
    for (const [id, v] of seen) {
      const f = v & (ENV | MSG);
      const hintAt = v & HAS_HINT ? (Math.floor(v / 8) + base) * 1000 : undefined;
      if (f === MSG) {
        await rm(this.bodyPath(id), { force: true });
        orphans++;
      } else if (f === ENV) corrupt.push(id);
      else if (f === (ENV | MSG)) {
        count++;
        if (hintAt !== undefined) waiting++;
        if (onMessage) onMessage(id, hintAt);
        else ids.push(id);
        continue;
      }
      if (hintAt !== undefined) recheck.add(id);
    }
    // Rare (after a crash): hints of incomplete messages, duplicates, unparsable names. Keep only
    // the earliest hint of a complete message.
    if (recheck.size) {
      const found = new Map<string, string[]>();
      for await (const d of await opendir(this.dir, { bufferSize: 256 })) {
        const id = d.name.slice(0, 20);
        if (recheck.has(id) && d.name.slice(20).startsWith(HINT)) found.set(id, [...(found.get(id) ?? []), d.name]);
      }
      for (const [id, names] of found) {
        const complete = seen.get(id);
        const at = (n: string) => parseInt(n.slice(20 + HINT.length), 36);
        const keep = complete !== undefined && (complete & (ENV | MSG)) === (ENV | MSG)
          ? names.filter((n) => Number.isFinite(at(n))).sort((a, b) => at(a) - at(b))[0]
          : undefined;
        for (const n of names) if (n !== keep) await unlinkIfExists(path.join(this.dir, n));
      }
    }
    seen.clear();
    ids.sort();
    corrupt.sort();
    return { ids, count, waiting, orphans, corrupt };
  }
}
