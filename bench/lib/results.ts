/** Appending a run's section to a results file (bench/RESULTS.md by default). */
import fs from 'node:fs';

/** Append `section` after one blank line; a missing file starts with `header`. */
export function appendSection(file: string, section: string, header = '# Benchmark results\n'): void {
  const existing = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : header;
  fs.writeFileSync(file, `${existing.replace(/\s*$/, '\n\n')}${section}`);
}
