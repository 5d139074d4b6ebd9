import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { PasswordInputError, readFirstLine, readNewPassword } from './password-input.ts';

/** A stand-in terminal: keystrokes are fed in; raw mode is recorded; what is "echoed" is collected. */
function fakeTty() {
  const input = new PassThrough() as PassThrough & { isTTY: boolean; setRawMode(m: boolean): void; rawCalls: boolean[] };
  input.isTTY = true;
  input.rawCalls = [];
  input.setRawMode = (m) => { input.rawCalls.push(m); };
  let shown = '';
  const output = { write: (s: string) => { shown += s; } };
  return { input, output, shown: () => shown };
}

/** Feed keystrokes once the prompt is waiting for them. */
function type(input: PassThrough, ...keys: string[]) {
  let i = 0;
  const next = () => { if (i < keys.length) { input.write(keys[i++]); setImmediate(next); } };
  setImmediate(next);
}

void test('terminal: asked twice without echo, in raw mode; backspace and escape sequences are handled', async () => {
  const t = fakeTty();
  type(t.input, 's3cr', 'x\u007f', 'et\u001b[D', '\r', 's3cret\r');
  const pw = await readNewPassword(t);
  assert.equal(pw, 's3cret');
  assert.equal(t.shown(), 'New password: \nRetype new password: \n', 'prompts only, nothing typed is echoed');
  assert.deepEqual(t.input.rawCalls, [true, false], 'raw mode from before the first prompt to after the last answer');
});

void test('terminal: two different passwords are refused', async () => {
  const t = fakeTty();
  type(t.input, 'one-password\r', 'another-password\r');
  await assert.rejects(readNewPassword(t), (e: unknown) => e instanceof PasswordInputError && e.exitCode === 65 && /do not match/.test(e.message));
});

void test('terminal: both entries typed ahead (or pasted) in one go are both read', async () => {
  const t = fakeTty();
  t.input.write('pasted-pw\rpasted-pw\r');
  assert.equal(await readNewPassword(t), 'pasted-pw');
});

void test('terminal: Ctrl-C cancels with 130 and leaves raw mode', async () => {
  const t = fakeTty();
  type(t.input, 'abc\u0003');
  await assert.rejects(readNewPassword(t), (e: unknown) => e instanceof PasswordInputError && e.exitCode === 130);
  assert.deepEqual(t.input.rawCalls, [true, false]);
});

void test('pipe: the first line, without CR LF; the rest is not read', async () => {
  const input = new PassThrough();
  input.end('pässword with spaces\r\nsecond line\n');
  assert.equal(await readFirstLine(input), 'pässword with spaces');
  const input2 = new PassThrough();
  input2.end('no newline at all');
  assert.equal(await readNewPassword({ input: input2, output: { write: () => true } }), 'no newline at all');
});

void test('pipe: empty stdin is an error', async () => {
  const input = new PassThrough();
  input.end('');
  await assert.rejects(readNewPassword({ input, output: { write: () => true } }), (e: unknown) => e instanceof PasswordInputError && e.exitCode === 65);
});
