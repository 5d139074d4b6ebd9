/**
 * Lists the messages of a Maildir folder from its new/ and cur/ directories and reconciles the listing
 * with the folder index: names only, no stat, so a scan of 100,000 messages is two readdirs. A name the
 * index already knows under that very name is matched with a map lookup and never parsed, so a rescan
 * costs little more than the readdirs. What the names do not say (the internal date, a size without
 * `,S=`) is looked up only for files the index does not know yet (statUnknown).
 */
import path from 'node:path';
import type { FileLocations } from './file-locations.ts';
import { type ParsedName, parseFilename } from './filename.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import type { FolderIndex } from './uid-index.ts';

export type Subdir = 'new' | 'cur';

export interface ScannedFile extends ParsedName {
  readonly name: string;
  readonly subdir: Subdir;
}

/** What a listing says about the index. */
export interface ScanOutcome {
  /** Files the index does not know, by base name (each still to be stat'ed and given a UID). */
  readonly unknown: ReadonlyMap<string, ScannedFile>;
  /** Known messages whose file name carries other flag letters than the index (another tool's change). */
  readonly reflagged: ReadonlyMap<number, string>;
  /** Known messages whose file is in neither directory. */
  readonly vanished: readonly number[];
}

const STAT_BATCH = 64;

/** Names a Maildir reader skips: dot files (other tools' temp files) and names no index line can hold. */
const SKIP = /^\.|[\u0000-\u001f\u007f/]/;

/**
 * Lists new/ and cur/ and matches the names against `index`; `locations` is rebuilt from the listing.
 * A file another tool moves between the directories during the listing could be missed, so when a
 * known message seems gone the directories are listed once more before it is reported vanished
 * (readdir may miss an entry renamed meanwhile; POSIX leaves that unspecified).
 */
export async function scanFolder(fs: FsPort, dir: string, index: FolderIndex, locations: FileLocations): Promise<ScanOutcome> {
  const seen = new Set<number>();
  const unknown = new Map<string, ScannedFile>();
  const reflagged = new Map<number, string>();
  locations.clear();
  const take = (subdir: Subdir, name: string, again: boolean): void => {
    if (SKIP.test(name)) return;
    const colon = name.indexOf(':');
    const base = colon < 0 ? name : name.slice(0, colon);
    const uid = index.byBase.get(base);
    if (uid === undefined) {
      if (again && unknown.has(base)) return;
      const { info, size } = parseFilename(name);
      // The same base in both: cur/ (listed last) wins. Files in new/ carry no flags (Maildir spec).
      unknown.set(base, { base, info: subdir === 'new' ? '' : info, size, name, subdir });
      return;
    }
    if (again && seen.has(uid)) return;
    seen.add(uid);
    const known = index.entries.get(uid)?.info ?? '';
    let info: string;
    if (subdir === 'new' && colon < 0) {
      info = '';
      locations.noteCanonical(uid, 'new');
    } else if (subdir === 'cur' && isCurName(name, colon, known)) {
      info = known;
      locations.noteCanonical(uid, 'cur');
    } else {
      info = subdir === 'new' ? '' : parseFilename(name).info;
      locations.note(uid, { base, info, name, subdir });
    }
    if (info !== known) reflagged.set(uid, info);
    else reflagged.delete(uid);
  };
  const missing = (): number[] => {
    const uids: number[] = [];
    for (const uid of index.entries.keys()) if (!seen.has(uid)) uids.push(uid);
    return uids;
  };
  // new/ first: a file another tool moves new/ → cur/ during the scan is then seen in cur/ at least.
  for (const subdir of ['new', 'cur'] as const) for (const name of await readNames(fs, path.join(dir, subdir))) take(subdir, name, false);
  let vanished = missing();
  if (vanished.length > 0) {
    for (const subdir of ['new', 'cur'] as const) for (const name of await readNames(fs, path.join(dir, subdir))) take(subdir, name, true);
    vanished = missing();
  }
  return { unknown, reflagged, vanished };
}

/** `name` (whose first colon is at `colon`) is exactly `<base>:2,<info>`. */
function isCurName(name: string, colon: number, info: string): boolean {
  return (
    colon >= 0 &&
    name.length === colon + 3 + info.length &&
    name.charCodeAt(colon + 1) === 50 && // '2'
    name.charCodeAt(colon + 2) === 44 && // ','
    name.endsWith(info)
  );
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
export async function statUnknown(fs: FsPort, dir: string, unknown: Iterable<ScannedFile>): Promise<StatedFile[]> {
  const files = [...unknown];
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
