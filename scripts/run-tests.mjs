#!/usr/bin/env node
// Node 20's test runner neither expands globs nor discovers .ts files: an empty file list runs
// nothing and exits 0. This lists every *.test.ts explicitly and fails when it finds none.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['core', 'plugins', 'test'];
const skip = new Set(['node_modules', 'dist', '.git']);
const only = process.argv.slice(2);

function walk(dir, out) {
  let entries;
  try { entries = readdirSync(dir); } catch { return out; }
  for (const name of entries) {
    if (skip.has(name)) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out;
}

let files = roots.flatMap((r) => walk(join(root, r), [])).sort();
if (only.length) files = files.filter((f) => only.some((o) => f.includes(o)));
if (files.length === 0) {
  console.error('run-tests: no *.test.ts files found under ' + roots.join(', '));
  process.exit(1);
}
console.log(`run-tests: ${files.length} files`);
const r = spawnSync(process.execPath, [
  '--import', 'tsx', '--test', '--test-force-exit', '--test-concurrency=2', '--test-timeout=300000',
  ...files,
], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
