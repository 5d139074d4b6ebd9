#!/usr/bin/env node
// Runs the compiled CLI when `npm run build` has made dist/, otherwise the TypeScript source through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compiled = path.join(root, 'dist', 'core', 'cli', 'main.js');
let mod;
if (existsSync(compiled) && !process.env.POCHTA_FROM_SOURCE) {
  mod = await import(pathToFileURL(compiled).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  mod = await import(pathToFileURL(path.join(root, 'core', 'cli', 'main.ts')).href);
}
await mod.main(process.argv);
