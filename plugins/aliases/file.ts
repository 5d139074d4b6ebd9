/**
 * The alias file on disk: read it, and watch it for changes. The directory is watched rather
 * than the file, because editors and config tools replace a file by renaming a new one over it,
 * which ends a watch on the old inode.
 */
import { watch } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AliasMapInput } from './config.ts';
import { parseAliasFile } from './table.ts';

/** Read and validate the alias file; the Error names the file. */
export async function loadAliasFile(file: string): Promise<AliasMapInput> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  try {
    return parseAliasFile(text);
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Call `onChange` (debounced by `debounceMs`) whenever `file` may have changed, until `signal`
 * aborts. Watch errors go to `onError`; the watch then stops (the last good map stays).
 */
export function watchAliasFile(file: string, opts: {
  signal: AbortSignal;
  onChange: () => void;
  onError: (err: Error) => void;
  debounceMs?: number;
}): void {
  const base = path.basename(file);
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(path.dirname(file), { persistent: false, signal: opts.signal });
  watcher.on('change', (_event, name) => {
    if (name !== null && String(name) !== base) return;
    clearTimeout(timer);
    timer = setTimeout(opts.onChange, opts.debounceMs ?? 100);
  });
  watcher.on('error', (err) => {
    clearTimeout(timer);
    if (!opts.signal.aborted) opts.onError(err);
  });
  watcher.on('close', () => clearTimeout(timer));
  opts.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
}
