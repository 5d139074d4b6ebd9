import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { installStackTrace, sourceMappedStackTrace } from './stack-trace.ts';

const here = fileURLToPath(import.meta.url);

function thrower(): never {
  throw new TypeError('from the test'); // THROW-LINE
}

void test('stack frames of TypeScript sources point at the .ts line; Node-internal frames stay as V8 wrote them', async (t) => {
  const before: unknown = Reflect.get(Error, 'prepareStackTrace');
  t.after(() => { Reflect.set(Error, 'prepareStackTrace', before); });
  Error.prepareStackTrace = sourceMappedStackTrace();
  const throwLine = (await readFile(here, 'utf8')).split('\n').findIndex((l) => l.includes('// THROW-LINE')) + 1;
  let stack = '';
  try {
    thrower();
  } catch (err) {
    stack = (err as Error).stack ?? '';
  }
  assert.match(stack, /^TypeError: from the test\n {4}at /);
  assert.ok(stack.includes(`${here}:${throwLine}:`), `the throw's own .ts line (${throwLine}) in:\n${stack}`);

  // A stack of Node internals only, the kind every dropped connection gets: passed through.
  const err = await new Promise<Error>((resolve) => {
    void readFile('/nonexistent/pochta-stack-test').catch((e: Error) => resolve(e));
  });
  assert.match(err.stack ?? '', /^Error: ENOENT/);
});

void test('installStackTrace replaces node\'s default formatter, never one somebody else installed', async (t) => {
  const before: unknown = Reflect.get(Error, 'prepareStackTrace');
  t.after(() => { Reflect.set(Error, 'prepareStackTrace', before); });
  // What node starts with (a built-in named ErrorPrepareStackTrace on node 20.x, undefined on older ones).
  const { execFileSync } = await import('node:child_process');
  const initial = execFileSync(process.execPath, ['-p', 'String(Error.prepareStackTrace && Error.prepareStackTrace.name)'], { encoding: 'utf8' }).trim();
  Reflect.set(Error, 'prepareStackTrace', initial === 'undefined' ? undefined : Object.defineProperty(() => '', 'name', { value: initial }));
  assert.equal(installStackTrace(), true);
  assert.notEqual((Reflect.get(Error, 'prepareStackTrace') as { name?: string }).name, initial);
  const theirs = (): string => 'theirs';
  Reflect.set(Error, 'prepareStackTrace', theirs);
  assert.equal(installStackTrace(), false);
  assert.equal(Reflect.get(Error, 'prepareStackTrace'), theirs);
});
