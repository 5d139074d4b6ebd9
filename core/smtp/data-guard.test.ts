import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { DataGuard } from './data-guard.ts';

async function run(chunks: string[], opts: Partial<ConstructorParameters<typeof DataGuard>[0]> = {}) {
  const g = new DataGuard({ maxLineLength: 998, maxBytes: 1e9, normalize: false, ...opts });
  const out: Buffer[] = [];
  for await (const c of Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))).pipe(g)) out.push(c as Buffer);
  return { g, text: Buffer.concat(out).toString('latin1') };
}

test('CRLF-only data passes untouched, even split between chunks', async () => {
  const { g, text } = await run(['a\r', '\nb\r\n', 'c\r\n']);
  assert.equal(g.bareLineEndings, 0);
  assert.equal(text, 'a\r\nb\r\nc\r\n');
});

test('bare LF, bare CR, and a CR at a chunk edge followed by a non-LF are each flagged', async () => {
  assert.equal((await run(['a\nb\r\n'])).g.bareLineEndings, 1);
  assert.equal((await run(['a\rb\r\n'])).g.bareLineEndings, 1);
  assert.equal((await run(['a\r', 'b\r\n'])).g.bareLineEndings, 1);
  assert.equal((await run(['body\r\n.\nMAIL FROM:<x@y>\r\n'])).g.bareLineEndings, 1);
  assert.equal((await run(['x\r'])).g.bareLineEndings, 1);
});

test('normalize turns every bare ending into CRLF', async () => {
  const { g, text } = await run(['a\nb\rc\r', 'd\r\n'], { normalize: true });
  assert.equal(g.bareLineEndings, 3);
  assert.equal(text, 'a\r\nb\r\nc\r\nd\r\n');
});

test('line length is measured across chunks', async () => {
  const { g } = await run(['x'.repeat(600), 'y'.repeat(600) + '\r\n', 'short\r\n'], { maxLineLength: 998 });
  assert.equal(g.longestLine, 1200);
  assert.equal(g.lineTooLong, true);
  assert.equal((await run(['x'.repeat(998) + '\r\n'])).g.lineTooLong, false);
});

test('bytes past the size limit are counted but not passed on', async () => {
  const { g, text } = await run(['0123456789', '0123456789', '01234'], { maxBytes: 15 });
  assert.equal(g.oversized, true);
  assert.equal(g.bytesIn, 25);
  assert.equal(text, '0123456789');
});
