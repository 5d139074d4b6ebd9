import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandFramer, type FrameEvent } from './framing.ts';
import { LiteralBudget } from './literal-budget.ts';

const limits = { maxLineLength: 100, maxLiterals: 3, literalLimit: (first: Buffer) => (/APPEND/i.test(first.toString()) ? 1000 : 10) };
const text = (ev: FrameEvent) => (ev.kind === 'command' ? ev.segments.map((s) => s.line.toString() + (s.literal ? `<${s.literal.toString()}>` : '')).join('|') : ev.kind);

test('lines split on CRLF or LF, across chunks', () => {
  const f = new CommandFramer(limits);
  assert.deepEqual(f.push(Buffer.from('a NOOP\r\nb NO')).map(text), ['a NOOP']);
  assert.deepEqual(f.push(Buffer.from('OP\nc')).map(text), ['b NOOP']);
  assert.equal(f.buffered, 1);
});

test('a synchronising literal asks for "+" and is spliced into its command, byte by byte', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('a LOGIN {3}\r\n'));
  assert.deepEqual(evs.map(text), ['continue']);
  const out: FrameEvent[] = [];
  for (const b of Buffer.from('bob {2+}\r\npw\r\n')) out.push(...f.push(Buffer.from([b])));
  assert.deepEqual(out.map(text), ['a LOGIN {3}<bob>| {2+}<pw>|']);
});

test('a literal may hold CRLF and braces; {0} is empty', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('a APPEND X {7+}\r\n{1}\r\n\r\n\r\nb X {0}\r\n\r\n'));
  assert.deepEqual(evs.map(text), ['a APPEND X {7+}<{1}\r\n\r\n>|', 'continue', 'b X {0}<>|']);
});

test('too large synchronising literal: refused with TOOBIG, no continuation, next command fine', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('a LOGIN {11}\r\nb NOOP\r\n'));
  assert.deepEqual(evs, [{ kind: 'reject', tag: 'a', status: 'NO', text: '[TOOBIG] Literal too large (limit 10 octets)' }, { kind: 'command', segments: [{ line: Buffer.from('b NOOP') }] }]);
});

test('too large non-synchronising literal: its bytes are dropped without being held, then the command refused', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('a APPEND X {5000+}\r\n'));
  assert.deepEqual(evs, []);
  for (let i = 0; i < 5; i++) {
    assert.deepEqual(f.push(Buffer.alloc(1000, 0x41)), []);
    assert.equal(f.buffered, 0, 'nothing of the refused literal is buffered');
  }
  const end = f.push(Buffer.from(' rest {3+}\r\nxyz\r\nb NOOP\r\n'));
  assert.deepEqual(end.map((e) => (e.kind === 'reject' ? `${e.tag} ${e.status}` : text(e))), ['a NO', 'b NOOP']);
});

test('overlong line: BAD with the tag, discarded to its end, bounded buffering', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('t1 ' + 'x'.repeat(500)));
  assert.deepEqual(evs, []);
  assert.ok(f.buffered <= 101);
  assert.deepEqual(f.push(Buffer.from('yyy\r\nt2 NOOP\r\n')).map((e) => (e.kind === 'reject' ? `${e.tag} ${e.status} ${e.text}` : text(e))),
    ['t1 BAD Command line too long (limit 100 octets)', 't2 NOOP']);
});

test('too many literals in one command is BAD', () => {
  const f = new CommandFramer(limits);
  const evs = f.push(Buffer.from('a X {1+}\r\n1 {1+}\r\n2 {1+}\r\n3 {1+}\r\n4\r\n'));
  assert.deepEqual(evs.map((e) => (e.kind === 'reject' ? `${e.tag} ${e.status} ${e.text}` : text(e))), ['a BAD Too many literals in one command']);
});

test('the shared literal budget: a literal that does not fit is refused for now; refused and dropped ones give their bytes back', () => {
  const budget = new LiteralBudget(8);
  const withBudget = { ...limits, reserve: (n: number) => budget.reserve(n), release: (n: number) => budget.release(n) };
  const a = new CommandFramer(withBudget);
  const b = new CommandFramer(withBudget);
  assert.deepEqual(a.push(Buffer.from('a1 APPEND X {6}\r\n')).map(text), ['continue']);
  assert.equal(budget.used, 6);
  const refused = b.push(Buffer.from('b1 APPEND X {5}\r\n'));
  assert.deepEqual(refused, [{ kind: 'reject', tag: 'b1', status: 'NO', text: '[UNAVAILABLE] Too much upload in progress on this server, try again later' }]);
  // A command refused after one of its literals was taken gives that literal back.
  assert.deepEqual(b.push(Buffer.from('b2 APPEND X {2+}\r\nxy {900+}\r\n')), []);
  assert.equal(budget.used, 8);
  b.push(Buffer.alloc(900, 0x41));
  assert.deepEqual(b.push(Buffer.from('\r\n')).map((e) => (e.kind === 'reject' ? `${e.tag} ${e.status}` : text(e))), ['b2 NO']);
  assert.equal(budget.used, 6);
  // A framer reset (connection gone mid-literal) gives back what it held.
  a.push(Buffer.from('abc'));
  a.reset();
  assert.equal(budget.used, 0);
});
