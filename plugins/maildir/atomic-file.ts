/**
 * Replace a small file atomically: write a sibling temp file, fsync, rename over, fsync the directory.
 * A reader sees the old or the new content, never a torn one, and a crash keeps one of them.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { type FsPort, isErrno, syncDir } from './fs-port.ts';

export async function writeFileAtomic(fs: FsPort, file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, 'wx', 0o600);
  try {
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (err) {
    await fs.unlink(tmp).catch(() => undefined);
    throw err;
  }
  await syncDir(fs, path.dirname(file));
}

/** The file's text, or undefined when it does not exist. */
export async function readOptional(fs: FsPort, file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}
