/**
 * Where each message file of a folder is right now. The index knows a message's base name and flag
 * letters; from those the file is `new/<base>` (not yet seen by a session) or `cur/<base>:2,<info>`.
 * Files another tool named differently (no `:2,`, unsorted letters) are remembered by their real name.
 */
import path from 'node:path';
import { curName } from './filename.ts';
import type { ScannedFile } from './folder-scan.ts';
import type { IndexEntry } from './uid-index.ts';

export type FileName = Pick<ScannedFile, 'base' | 'info' | 'name' | 'subdir'>;

export class FileLocations {
  private readonly inNew = new Set<number>();
  /** Real names (relative to the folder) that differ from the canonical one. */
  private readonly odd = new Map<number, string>();

  /** `<dir>/new/` and `<dir>/cur/`: a file's path is one concatenation (asked once per message by FETCH of a whole folder). */
  private readonly newPrefix: string;
  private readonly curPrefix: string;

  constructor(private readonly dir: string) {
    this.newPrefix = path.join(dir, 'new') + path.sep;
    this.curPrefix = path.join(dir, 'cur') + path.sep;
  }

  /** UIDs whose file is still in new/ (\Recent for the first session that claims them). */
  get newUids(): readonly number[] {
    return [...this.inNew];
  }

  get newCount(): number {
    return this.inNew.size;
  }

  path(entry: Readonly<IndexEntry>): string {
    const odd = this.odd.get(entry.uid);
    if (odd !== undefined) return path.join(this.dir, odd);
    if (this.inNew.has(entry.uid)) return this.newPrefix + entry.base;
    return this.curPath(entry);
  }

  /** Where the file goes when it gets its canonical cur/ name (claimed, flags written). */
  curPath(entry: Readonly<IndexEntry>): string {
    return this.curPrefix + curName(entry.base, entry.info);
  }

  /** The file as a listing (or our own write) found it. */
  note(uid: number, file: FileName): void {
    if (file.subdir === 'new') this.inNew.add(uid);
    else this.inNew.delete(uid);
    const canonical = file.subdir === 'new' ? file.base : curName(file.base, file.info);
    if (file.name === canonical) this.odd.delete(uid);
    else this.odd.set(uid, path.join(file.subdir, file.name));
  }

  /** The file has its canonical name in `subdir` (`<base>` in new/, `<base>:2,<info>` in cur/). */
  noteCanonical(uid: number, subdir: 'new' | 'cur'): void {
    if (subdir === 'new') this.inNew.add(uid);
    else this.inNew.delete(uid);
    if (this.odd.size > 0) this.odd.delete(uid);
  }

  /** The file now has its canonical cur/ name (flags written, claimed) or is gone. */
  settled(uid: number): void {
    this.inNew.delete(uid);
    this.odd.delete(uid);
  }

  /** Another process registered it: a flagless delivery lands in new/. A wrong guess costs a rescan. */
  guess(uid: number, info: string): void {
    if (info === '') this.inNew.add(uid);
  }

  clear(): void {
    this.inNew.clear();
    this.odd.clear();
  }
}
