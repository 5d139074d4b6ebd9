/**
 * COPY and MOVE into another folder of the same mailbox (RFC 3501 §6.4.7, RFC 6851), with COPYUID data
 * (RFC 4315). A copy is a hard link under a new unique name (the bytes are copied where links are not
 * possible); a move renames the file. Flags and internal date go along; the destination directories
 * are fsynced before the new files are registered there.
 */
import path from 'node:path';
import type { CopyResult } from '../../core/store/mail-store.ts';
import { writeMessage } from './deliver.ts';
import type { DirSyncs } from '../../core/fs/dir-syncs.ts';
import { curName } from './filename.ts';
import type { FolderState, NewFile } from './folder-state.ts';
import { type FsPort, isErrno } from './fs-port.ts';
import type { UniqueNamer } from './unique-name.ts';

export interface CopyContext {
  readonly fs: FsPort;
  readonly namer: UniqueNamer;
  readonly dirSyncs: DirSyncs;
}

/** COPY: hard links under new names; messages expunged meanwhile are left out of the result. */
/** `origin`: the view that asked; the destination's `added` event carries it (a client copy, not a delivery). */
export async function copyMessages(ctx: CopyContext, from: FolderState, uids: readonly number[], dest: FolderState, origin?: string): Promise<CopyResult> {
  const present = uids.filter((uid) => from.entry(uid) !== undefined);
  await dest.infoFor(present.map((uid) => from.flagsOf(uid)));
  const sourceUids: number[] = [];
  const files: NewFile[] = [];
  for (const uid of present) {
    const file = await copyOne(ctx, from, uid, dest);
    if (!file) continue; // expunged meanwhile
    sourceUids.push(uid);
    files.push(file);
  }
  await syncMessageDirs(ctx, dest, files);
  const destUids = await dest.register(files, origin !== undefined ? { origin } : {});
  return { uidValidity: dest.uidValidity, sourceUids, destUids };
}

/** MOVE: each file is renamed into the destination, then expunged from the source. */
export async function moveMessages(
  ctx: CopyContext,
  from: FolderState,
  uids: readonly number[],
  dest: FolderState,
  origin: string,
): Promise<CopyResult> {
  await dest.infoFor(uids.filter((uid) => from.entry(uid) !== undefined).map((uid) => from.flagsOf(uid)));
  const { uids: sourceUids, files } = await from.moveOut(
    uids,
    (entry) => {
      const file = newFile(ctx, entry.size, entry.date, dest.infoKnown(from.flagsOf(entry.uid)));
      return { file, path: path.join(dest.dir, file.subdir, file.name) };
    },
    { origin },
  );
  await syncMessageDirs(ctx, dest, files);
  const destUids = await dest.register(files, { origin });
  return { uidValidity: dest.uidValidity, sourceUids, destUids };
}

async function copyOne(ctx: CopyContext, from: FolderState, uid: number, dest: FolderState): Promise<NewFile | undefined> {
  for (let attempt = 0; ; attempt++) {
    const entry = from.entry(uid);
    const source = from.pathOf(uid);
    if (!entry || source === undefined) return undefined;
    const info = dest.infoKnown(from.flagsOf(uid));
    const file = newFile(ctx, entry.size, entry.date, info);
    try {
      await ctx.fs.link(source, path.join(dest.dir, file.subdir, file.name));
      return file;
    } catch (err) {
      if (isErrno(err, 'EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP')) {
        // No hard links here: copy the bytes (streamed) instead.
        const copied = await writeMessage(ctx.fs, ctx.namer, { path: source }, { dir: dest.dir, info, internalDate: new Date(entry.date) });
        return { ...file, base: copied.base, name: copied.filename, size: copied.size };
      }
      if (!isErrno(err, 'ENOENT') || attempt > 0) throw err;
    }
    await from.refresh({ force: true }); // renamed by another tool: find it again
  }
}

function newFile(ctx: CopyContext, size: number, date: number, info: string): NewFile {
  const base = `${ctx.namer.next()},S=${size}`;
  const subdir = info === '' ? 'new' : 'cur';
  return { base, name: subdir === 'new' ? base : curName(base, info), subdir, info, size, date };
}

/** The links/renames into the destination survive a crash once its directories are synced. */
async function syncMessageDirs(ctx: CopyContext, dest: FolderState, files: readonly NewFile[]): Promise<void> {
  await Promise.all([...new Set(files.map((f) => f.subdir))].map((subdir) => ctx.dirSyncs.sync(path.join(dest.dir, subdir))));
}
