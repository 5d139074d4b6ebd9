import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DataGuard } from './data-guard.ts';

async function run(chunks: string[], opts: Partial<ConstructorParameters<typeof DataGuard>[0]> = {}) {
  const g = new DataGuard({ maxLineLength: 998, maxBytes: 1e9, normalize: false, ...opts });
  const out: Buffer[] = [];
  for (const c of chunks) {
    const kept = g.accept(Buffer.from(c, 'latin1'));
    if (kept) out.push(kept);
  }
  const tail = g.finish();
  if (tail) out.push(tail);
  return Promise.resolve({ g, text: Buffer.concat(out).toString('latin1') });
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

/** The whole-input answer: bare endings and the longest CRLF-separated line (no bare CRs in input). */
function reference(text: string) {
  let bare = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\n' && text[i - 1] !== '\r') bare++;
    if (text[i] === '\r' && text[i + 1] !== '\n') bare++;
  }
  const longest = Math.max(0, ...text.split('\n').map((l) => l.replace(/\r$/, '').length));
  return { bare, longest };
}

test('chunk boundaries never change the verdict (random inputs, random splits)', async () => {
  let seed = 42;
  const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const alphabet = ['a', 'b', '.', ' ', '\r\n', '\r\n', '\n', 'xxxxxxxxxxxxxxxxxxxx'];
  for (let round = 0; round < 300; round++) {
    let text = '';
    const parts = 1 + rnd(60);
    for (let k = 0; k < parts; k++) text += alphabet[rnd(alphabet.length)];
    if (round % 3 === 0) text += '\r'.repeat(rnd(2)) + (rnd(2) ? 'z\r' : '');
    const chunks: string[] = [];
    for (let i = 0; i < text.length;) {
      const len = 1 + rnd(9);
      chunks.push(text.slice(i, i + len));
      i += len;
    }
    const { g, text: out } = await run(chunks);
    const ref = reference(text);
    assert.equal(out, text, 'bytes pass through unchanged');
    assert.equal(g.bareLineEndings, ref.bare, `bare endings in ${JSON.stringify(text)} split as ${JSON.stringify(chunks)}`);
    if (!text.replace(/\r\n/g, '').includes('\r')) assert.equal(g.longestLine, ref.longest, `longest line in ${JSON.stringify(text)}`);
  }
});
