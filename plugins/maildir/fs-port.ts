/**
 * The file-system calls the Maildir store makes, injectable so tests can count them (a folder must open
 * from its index without reading every message) or fail one at a chosen step.
 */
import fsp from 'node:fs/promises';

export type FsPort = Pick<
  typeof fsp,
  'open' | 'readdir' | 'stat' | 'rename' | 'link' | 'unlink' | 'mkdir' | 'rm' | 'readFile' | 'utimes'
>;

export const nodeFs: FsPort = fsp;

/** fsync a directory so a rename or create inside it survives a crash (the file's own fsync does not cover it). */
export async function syncDir(fs: FsPort, dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export function isErrno(err: unknown, ...codes: string[]): boolean {
  return typeof err === 'object' && err !== null && codes.includes((err as NodeJS.ErrnoException).code ?? '');
}
