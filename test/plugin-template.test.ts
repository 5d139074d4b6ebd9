import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `pochta plugin new` copies plugin-template/; the copy must typecheck and its tests must pass,
 * so the template never drifts from the API (maddy's skeleton did).
 */
test('pochta plugin new makes a plugin that builds and passes its test', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-plugin-new-'));
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'bin/pochta.js'), 'plugin', 'new', 'demo-check', '--dir', dir], { cwd: dir });
    assert.match(stdout, /created .*pochta-plugin-demo-check/);
    const p = path.join(dir, 'pochta-plugin-demo-check');
    const pkg = JSON.parse(await readFile(path.join(p, 'package.json'), 'utf8'));
    assert.equal(pkg.name, 'pochta-plugin-demo-check');
    assert.match(await readFile(path.join(p, 'src/index.ts'), 'utf8'), /name: 'demo-check'/);
    // Stand-in for `npm install`: link the packages the plugin needs from this checkout.
    await mkdir(path.join(p, 'node_modules', '@types'), { recursive: true });
    await symlink(ROOT, path.join(p, 'node_modules', 'pochta'));
    await symlink(path.join(ROOT, 'node_modules', 'zod'), path.join(p, 'node_modules', 'zod'));
    await symlink(path.join(ROOT, 'node_modules', '@types', 'node'), path.join(p, 'node_modules', '@types', 'node'));
    await run(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: p });
    const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'esm', 'index.mjs');
    // A nested test runner reports to its parent through NODE_TEST_CONTEXT; run this one standalone.
    const { NODE_TEST_CONTEXT: _, ...env } = process.env;
    const r = await run(process.execPath, ['--import', tsx, '--test', 'src/index.test.ts'], { cwd: p, env });
    assert.match(r.stdout, /# pass 3/);
    assert.match(r.stdout, /# fail 0/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
