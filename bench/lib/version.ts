/** The version of the Pochta checkout a benchmark runs, for RESULTS.md. */
import fs from 'node:fs';
import path from 'node:path';

/** `Pochta <package.json version>`, or just `Pochta` when it cannot be read. */
export function pochtaVersion(repo: string): string {
  try {
    return `Pochta ${(JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { version: string }).version}`;
  } catch {
    return 'Pochta';
  }
}
