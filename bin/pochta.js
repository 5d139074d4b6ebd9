#!/usr/bin/env node
// The `pochta` command. It runs the TypeScript source through tsx, so plugins written in
// TypeScript (local paths, pochta-plugin-* packages) load the same way; `npm run build` makes
// dist/ for embedding Pochta as a library.
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';

// Spool and Maildir writes fsync on libuv's thread pool; its default of 4 threads makes
// concurrent deliveries queue behind each other's fsyncs. Must be set before the pool starts.
process.env.UV_THREADPOOL_SIZE ??= '16';

const { register } = await import('tsx/esm/api');
register();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { installStackTrace } = await import(pathToFileURL(path.join(root, 'core', 'stack-trace.ts')).href);
installStackTrace();
const { main } = await import(pathToFileURL(path.join(root, 'core', 'cli', 'main.ts')).href);
await main(process.argv);
