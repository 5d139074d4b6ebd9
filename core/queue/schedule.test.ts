import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TimeHeap } from './heap.ts';
import { Schedule } from './schedule.ts';
import { backoff, displayState, isDue, owedNotice, wantsNotice } from './policy.ts';
import type { SpoolEnvelope, SpoolRecipient } from './envelope.ts';

/** A small deterministic generator (tests must not depend on Math.random). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

test('the heap pops in time order, ties by id, across growth and shrink', () => {
  const h = new TimeHeap();
  const rnd = lcg(7);
  const items: Array<[number, string]> = [];
  for (let i = 0; i < 5000; i++) items.push([Math.floor(rnd() * 1000), `id${String(i).padStart(5, '0')}`]);
  for (const [at, id] of items) h.push(at, id);
  assert.equal(h.size, 5000);
  items.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
  const out: Array<[number, string]> = [];
  for (let e = h.pop(); e; e = h.pop()) out.push([e.at, e.id]);
  assert.deepEqual(out, items);
  assert.equal(h.pop(), undefined);
  assert.equal(h.peekAt(), Infinity);
});

test('heap filter keeps the heap property', () => {
  const h = new TimeHeap();
  for (let i = 0; i < 3000; i++) h.push((i * 7919) % 3001, `x${i}`);
  h.filter((at) => at % 2 === 0);
  let last = -1;
  let n = 0;
  for (let e = h.pop(); e; e = h.pop()) {
    assert.ok(e.at >= last && e.at % 2 === 0);
    last = e.at;
    n++;
  }
  assert.equal(n, Array.from({ length: 3000 }, (_, i) => (i * 7919) % 3001).filter((v) => v % 2 === 0).length);
});

test('the schedule keeps one live entry per message; rescheduled and deleted ones never surface', () => {
  const s = new Schedule();
  s.set('A', 100);
  s.set('B', 50);
  s.set('C', 75);
  s.set('B', 200); // later: the old entry at 50 is stale
  s.set('C', 10); // earlier
  s.delete('A');
  assert.equal(s.size, 2);
  assert.equal(s.nextAt(), 10);
  assert.equal(s.popDue(5), undefined, 'nothing due before 10');
  assert.equal(s.popDue(1000), 'C');
  assert.equal(s.popDue(1000), 'B');
  assert.equal(s.popDue(1000), undefined);
  assert.equal(s.size, 0);
  assert.equal(s.nextAt(), Infinity);
});

test('stale heap entries are swept: rescheduling one message many times stays bounded', () => {
  const s = new Schedule();
  for (let i = 0; i < 100_000; i++) s.set('M', i);
  assert.equal(s.size, 1);
  assert.equal(s.popDue(Infinity), 'M');
  assert.equal(s.popDue(Infinity), undefined);
});

test('backoff doubles from the base and is capped: 5m, 10m, 20m, 40m, … 4h', () => {
  const m = 60_000;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 50].map((a) => backoff(a, 5 * m, 240 * m) / m), [5, 10, 20, 40, 80, 160, 240, 240]);
});

const env = (from: string, notify?: string[]): SpoolEnvelope => ({
  v: 1, id: '0000000000000000000A', receivedAt: 1000, size: 1,
  mailFrom: { address: from, args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
  client: { address: '127.0.0.1', listener: 'mx', secure: false }, headerEdits: [],
  recipients: [{ address: 'r@remote.test', ...(notify ? { dsn: { notify } } : {}), target: { kind: 'remote', address: 'r@remote.test' }, state: 'pending', attempts: 0 }],
});

test('NOTIFY decides the notices (RFC 3461 §4.1); for the null sender only failures go to the DSN writer (postmaster or dropped)', () => {
  const kinds = ['failure', 'delay', 'success'] as const;
  const want = (e: SpoolEnvelope) => kinds.filter((k) => wantsNotice(e, e.recipients[0], k));
  assert.deepEqual(want(env('s@x.test')), ['failure', 'delay'], 'no NOTIFY: failure and delay');
  assert.deepEqual(want(env('s@x.test', ['NEVER'])), []);
  assert.deepEqual(want(env('s@x.test', ['SUCCESS', 'FAILURE'])), ['failure', 'success']);
  assert.deepEqual(want(env('s@x.test', ['delay'])), ['delay']);
  assert.deepEqual(want(env('', ['SUCCESS', 'FAILURE', 'DELAY'])), ['failure']);
  assert.deepEqual(want(env('')), ['failure']);
  assert.deepEqual(want(env('', ['NEVER'])), []);
});

test('owed notices: failure once, delay after the warning time, success unless the next hop took DSN on', () => {
  const e = env('s@x.test', ['SUCCESS', 'FAILURE', 'DELAY']);
  const r = e.recipients[0];
  assert.equal(owedNotice(e, r, 2000, 5000), undefined, 'never attempted');
  r.attempts = 1;
  assert.equal(owedNotice(e, r, 2000, 5000), undefined, 'before the warning time');
  assert.equal(owedNotice(e, r, 6000, 5000), 'delay');
  r.delayNotifiedAt = 6000;
  assert.equal(owedNotice(e, r, 7000, 5000), undefined, 'one delay notice');
  r.state = 'delivered';
  assert.equal(owedNotice(e, r, 7000, 5000), 'success', 'relayed to a hop without DSN');
  r.nextHopDsn = true;
  assert.equal(owedNotice(e, r, 7000, 5000), undefined, 'the next hop reports success itself (RFC 3461 §6.2)');
  r.state = 'failed';
  assert.equal(owedNotice(e, r, 7000, 5000), 'failure');
  r.notifiedAt = 7000;
  assert.equal(owedNotice(e, r, 8000, 5000), undefined);
});

test('due: by next attempt time; local ones tried before a restart at once; forced retries', () => {
  const r: SpoolRecipient = { address: 'a@b.test', target: { kind: 'remote', address: 'a@b.test' }, state: 'pending', attempts: 1, lastAttemptAt: 100, nextAttemptAt: 5000 };
  const ctx = { now: 1000, startedAt: 500, forcedAt: 0 };
  assert.equal(isDue(r, ctx), false, 'remote keeps its time across a restart');
  assert.equal(isDue(r, { ...ctx, now: 5000 }), true);
  assert.equal(isDue(r, { ...ctx, forcedAt: 101 }), true, 'retry asked after its last attempt');
  assert.equal(isDue({ ...r, target: { kind: 'local', user: 'a@b.test' } }, ctx), true, 'local, last tried before the restart');
  assert.equal(isDue({ ...r, target: { kind: 'local', user: 'a@b.test' }, lastAttemptAt: 600 }, ctx), false);
  assert.equal(isDue({ ...r, state: 'delivered' }, { ...ctx, now: 9999 }), false);
  assert.equal(displayState(r, 1000, false), 'deferred');
  assert.equal(displayState(r, 6000, true), 'in-flight');
  assert.equal(displayState({ ...r, attempts: 0, nextAttemptAt: undefined }, 1000, false), 'pending');
  assert.equal(displayState({ ...r, state: 'failed' }, 1000, false), 'bounced');
});
