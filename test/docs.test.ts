import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

test('generated docs (hooks, config, plugin config tables) match the code', { timeout: 60_000 }, async () => {
  const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/gen-docs.ts', '--check'], { cwd: ROOT }).then(
    () => ({ ok: true, err: '' }),
    (e: { stderr: string }) => ({ ok: false, err: e.stderr }),
  );
  assert.equal(r.ok, true, r.err);
});
