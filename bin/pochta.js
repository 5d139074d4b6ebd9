#!/usr/bin/env node
// The `pochta` command. It runs the TypeScript source through tsx, so plugins written in
// TypeScript (local paths, pochta-plugin-* packages) load the same way; `npm run build` makes
// dist/ for embedding Pochta as a library.
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import { register } from 'tsx/esm/api';

register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { main } = await import(pathToFileURL(path.join(root, 'core', 'cli', 'main.ts')).href);
await main(process.argv);
