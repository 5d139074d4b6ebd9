import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DotStuffer } from './dot-stuffer.ts';
import { LineReader } from './line-reader.ts';

function stuff(input: string, bodyLines?: number, chunk = Infinity): { out: string; payload: number } {
  const s = new DotStuffer(bodyLines);
  const buf = Buffer.from(input, 'latin1');
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length && !s.done; i += chunk === Infinity ? buf.length : chunk) {
    parts.push(...s.push(buf.subarray(i, i + (chunk === Infinity ? buf.length : chunk))));
  }
  parts.push(...s.finish());
  return { out: Buffer.concat(parts).toString('latin1'), payload: s.payloadBytes };
}

describe('DotStuffer', () => {
  const msg = 'Subject: x\r\n\r\n.hidden\r\n..two\r\n.\r\nplain\r\n';
  const expected = 'Subject: x\r\n\r\n..hidden\r\n...two\r\n..\r\nplain\r\n.\r\n';

  it('stuffs leading dots and terminates', () => {
    const r = stuff(msg);
    assert.equal(r.out, expected);
    assert.equal(r.payload, Buffer.byteLength(msg));
  });

  it('gives the same bytes whatever the chunking', () => {
    for (const size of [1, 2, 3, 5, 7]) assert.equal(stuff(msg, undefined, size).out, expected, `chunk ${size}`);
  });

  it('turns bare LF and bare CR into CRLF and completes a missing last line end', () => {
    assert.equal(stuff('A: b\n\n.x\nend').out, 'A: b\r\n\r\n..x\r\nend\r\n.\r\n');
    assert.equal(stuff('A: b\r\rbody\r').out, 'A: b\r\n\r\nbody\r\n.\r\n');
  });

  it('empty message is just the terminator', () => {
    assert.equal(stuff('').out, '.\r\n');
  });

  it('TOP: header, blank line and k body lines', () => {
    const m = 'A: 1\r\nB: 2\r\n\r\nl1\r\n.l2\r\nl3\r\n';
    assert.equal(stuff(m, 0).out, 'A: 1\r\nB: 2\r\n\r\n.\r\n');
    assert.equal(stuff(m, 2).out, 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n');
    assert.equal(stuff(m, 2, 1).out, 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\n.\r\n');
    assert.equal(stuff(m, 99).out, 'A: 1\r\nB: 2\r\n\r\nl1\r\n..l2\r\nl3\r\n.\r\n');
    assert.equal(stuff('A: 1\r\nB: 2', 5).out, 'A: 1\r\nB: 2\r\n.\r\n', 'no body at all');
  });
});

describe('LineReader', () => {
  it('splits CRLF and LF lines across chunks', () => {
    const r = new LineReader(255);
    assert.deepEqual(r.push(Buffer.from('US')), []);
    assert.deepEqual(r.push(Buffer.from('ER a\r')), []);
    assert.deepEqual(r.push(Buffer.from('\nNOOP\nSTAT\r\nLI')), [{ line: 'USER a' }, { line: 'NOOP' }, { line: 'STAT' }]);
    assert.deepEqual(r.push(Buffer.from('ST\r\n')), [{ line: 'LIST' }]);
  });

  it('discards an overlong line without buffering it, then carries on', () => {
    const r = new LineReader(300);
    assert.deepEqual(r.push(Buffer.alloc(300, 'a')), []);
    assert.equal(r.buffered, 300);
    assert.deepEqual(r.push(Buffer.alloc(100_000, 'b')), []);
    assert.equal(r.buffered, 0);
    assert.deepEqual(r.push(Buffer.from('bbb\r\nNOOP\r\n')), [{ overlong: true }, { line: 'NOOP' }]);
  });

  it('a line of exactly the limit passes, one more byte does not', () => {
    const r = new LineReader(300);
    assert.deepEqual(r.push(Buffer.from('x'.repeat(300) + '\r\n')), [{ line: 'x'.repeat(300) }]);
    assert.deepEqual(r.push(Buffer.from('x'.repeat(301) + '\r\n')), [{ overlong: true }]);
    assert.deepEqual(r.push(Buffer.from('x'.repeat(301) + '\n')), [{ overlong: true }]);
  });

  it('reset drops a partial line', () => {
    const r = new LineReader(255);
    r.push(Buffer.from('CAPA'));
    r.reset();
    assert.deepEqual(r.push(Buffer.from('NOOP\r\n')), [{ line: 'NOOP' }]);
  });
});
