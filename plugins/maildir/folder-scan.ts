/**
 * Lists the messages of a Maildir folder from its new/ and cur/ directories: names only, no stat, so a
 * scan of 100,000 messages is two readdirs. What the names do not say (the internal date, a size without
 * `,S=`) is looked up only for files the index does not know yet.
 */
import path from 'node:path';
import { type ParsedName, parseFilename } from './filename.ts';
import { type FsPort, isErrno } from './fs-port.ts';

export type Subdir = 'new' | 'cur';

export interface ScannedFile extends ParsedName {
  readonly name: string;
  readonly subdir: Subdir;
}

/** Names a Maildir reader skips: dot files (other tools' temp files) and names no index line can hold. */
const STAT_BATCH = 64;

const SKIP = /^\.|[\u0000-\u001f\u007f/]/;

export async function scanFolder(fs: FsPort, dir: string): Promise<Map<string, ScannedFile>> {
  const files = new Map<string, ScannedFile>();
  // new/ first: a file another tool moves new/ → cur/ during the scan is then seen in cur/ at least.
  for (const subdir of ['new', 'cur'] as const) {
    for (const name of await readNames(fs, path.join(dir, subdir))) {
      if (SKIP.test(name)) continue;
      const { base, info, size } = parseFilename(name);
      // The same base in both: cur/ (read last) wins. Files in new/ carry no flags (Maildir spec).
      files.set(base, { base, info: subdir === 'new' ? '' : info, size, name, subdir });
    }
  }
  return files;
}

async function readNames(fs: FsPort, dir: string): Promise<string[]> {
  try {
    return await fs.readdir(dir);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return [];
    throw err;
  }
}

/** mtimes of new/ and cur/, to skip a rescan when neither changed. */
export interface DirStamp {
  readonly newNs: bigint;
  readonly curNs: bigint;
  /**
   * mtimes have coarse granularity (a kernel tick, a second on some file systems): a change in the same
   * tick as our scan would leave the mtime unchanged. A stamp is trusted only once it is a second old.
   */
  readonly settled: boolean;
}

const SETTLE_NS = 1_000_000_000n;

export async function dirStamp(fs: FsPort, dir: string): Promise<DirStamp> {
  const [n, c] = await Promise.all([
    fs.stat(path.join(dir, 'new'), { bigint: true }),
    fs.stat(path.join(dir, 'cur'), { bigint: true }),
  ]);
  const now = BigInt(Date.now()) * 1_000_000n;
  const newest = n.mtimeNs > c.mtimeNs ? n.mtimeNs : c.mtimeNs;
  return { newNs: n.mtimeNs, curNs: c.mtimeNs, settled: now - newest > SETTLE_NS };
}

export function sameStamp(a: DirStamp | undefined, b: DirStamp): boolean {
  return a !== undefined && a.settled && a.newNs === b.newNs && a.curNs === b.curNs;
}

export interface StatedFile extends ScannedFile {
  /** Internal date: the file's mtime, as Maildir readers take it (ms). */
  readonly date: number;
  readonly size: number;
}

/** Date and size of files the index does not know yet, a few stats at a time; vanished ones are left out. */
export async function statUnknown(fs: FsPort, dir: string, files: readonly ScannedFile[]): Promise<StatedFile[]> {
  const out: StatedFile[] = [];
  for (let i = 0; i < files.length; i += STAT_BATCH) {
    const batch = files.slice(i, i + STAT_BATCH);
    const stats = await Promise.all(
      batch.map((file) =>
        fs.stat(path.join(dir, file.subdir, file.name)).catch((err: unknown) => {
          if (isErrno(err, 'ENOENT')) return undefined; // gone since the listing
          throw err;
        }),
      ),
    );
    batch.forEach((file, j) => {
      const st = stats[j];
      if (st) out.push({ ...file, date: Math.floor(st.mtimeMs), size: file.size ?? st.size });
    });
  }
  return out;
}
