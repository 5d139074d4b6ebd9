import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { definePlugin } from './plugin.ts';
import { createPluginHarness } from './testing/plugin-harness.ts';
import { REPLY } from './smtp/codes.ts';
import { STAGE, reject } from './verdict.ts';

const mk = (name: string, register: Parameters<typeof definePlugin>[0]['register']) =>
  definePlugin({ name, description: name, config: z.object({}), register });

test('taps run in config order; the first answer ends the chain; null means no opinion', async () => {
  const ran: string[] = [];
  const h = await createPluginHarness({
    plugins: [
      [mk('a', (hooks) => hooks.smtp.rcptTo.tap(async () => { ran.push('a'); return null; })), {}],
      [mk('b', (hooks) => hooks.smtp.rcptTo.tap(async () => { ran.push('b'); return undefined; })), {}],
      [mk('c', (hooks) => hooks.smtp.rcptTo.tap(async () => { ran.push('c'); return reject(REPLY.noSuchUser); })), {}],
      [mk('d', (hooks) => hooks.smtp.rcptTo.tap(async () => { ran.push('d'); return { kind: 'accept' }; })), {}],
    ],
  });
  const s = h.makeSession();
  const tx = h.makeTransaction(s);
  const v = await h.hooks.smtp.rcptTo.call(tx, { address: 'x@y.test', args: {} }, tx.callTrace());
  assert.deepEqual(ran, ['a', 'b', 'c']);
  assert.equal(v?.kind, 'reject');
  assert.deepEqual(tx.trace.map((t) => [t.plugin, t.outcome]), [['a', 'none'], ['b', 'none'], ['c', 'reject']]);
  await h.close();
});

test('stage and before reorder taps', async () => {
  const ran: string[] = [];
  const h = await createPluginHarness({
    plugins: [
      [mk('late', (hooks) => hooks.smtp.helo.tap(async () => { ran.push('late'); }, { stage: STAGE.DECIDE })), {}],
      [mk('plain', (hooks) => hooks.smtp.helo.tap(async () => { ran.push('plain'); })), {}],
      [mk('pushy', (hooks) => hooks.smtp.helo.tap(async () => { ran.push('pushy'); }, { before: 'plain' })), {}],
      [mk('first', (hooks) => hooks.smtp.helo.tap(async () => { ran.push('first'); }, { stage: STAGE.FIRST })), {}],
    ],
  });
  await h.hooks.smtp.helo.call(h.makeSession(), { verb: 'EHLO', host: 'c.test' });
  assert.deepEqual(ran, ['first', 'pushy', 'plain', 'late']);
  assert.deepEqual(h.hooks.smtp.helo.taps().map((t) => t.plugin), ['first', 'pushy', 'plain', 'late']);
  await h.close();
});

test('a throwing tap becomes a 451 4.3.0 tempfail, is logged and counted, and later taps do not run', async () => {
  let laterRan = false;
  const h = await createPluginHarness({
    plugins: [
      [mk('boom', (hooks) => hooks.smtp.mailFrom.tap(async () => { throw new Error('kaboom'); })), {}],
      [mk('after', (hooks) => hooks.smtp.mailFrom.tap(async () => { laterRan = true; return { kind: 'accept' }; })), {}],
    ],
  });
  const s = h.makeSession();
  const tx = h.makeTransaction(s);
  const v = await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom, tx.callTrace());
  assert.equal(v?.kind, 'tempfail');
  assert.equal(v?.kind === 'tempfail' && v.reply.code, 451);
  assert.equal(v?.kind === 'tempfail' && v.reply.enhanced, '4.3.0');
  assert.equal(laterRan, false);
  assert.equal(h.metrics.get('hook_errors_total', { hook: 'smtp.mailFrom', plugin: 'boom' }), 1);
  assert.ok(h.logs.some((l) => l.event === 'hook.error' && l.plugin === 'boom' && String(l.msg).includes('kaboom')));
  await h.close();
});

test('synchronous taps (no timer, no promise): answers, null, a throw and a malformed answer are handled as async ones', async () => {
  const ran: string[] = [];
  const h = await createPluginHarness({
    plugins: [
      [mk('nil', (hooks) => hooks.smtp.rcptTo.tap(() => { ran.push('nil'); return null; })), {}],
      [mk('answer', (hooks) => hooks.smtp.rcptTo.tap((tx, rcpt) => { ran.push('answer'); return rcpt.address.startsWith('no') ? reject(REPLY.noSuchUser) : undefined; })), {}],
      [mk('boom', (hooks) => hooks.smtp.rcptTo.tap((tx, rcpt) => { ran.push('boom'); if (rcpt.address.startsWith('boom')) throw new Error('sync kaboom'); return undefined; })), {}],
      [mk('bad', (hooks) => hooks.smtp.rcptTo.tap(() => { ran.push('bad'); return { kind: 'nonsense' } as never; })), {}],
    ],
  });
  const s = h.makeSession();
  const call = async (address: string) => {
    ran.length = 0;
    const tx = h.makeTransaction(s);
    const v = await h.hooks.smtp.rcptTo.call(tx, { address, args: {} }, tx.callTrace());
    return { v, ran: [...ran], trace: tx.trace.map((t) => [t.plugin, t.outcome]) };
  };
  const no = await call('no@y.test');
  assert.equal(no.v?.kind, 'reject');
  assert.deepEqual(no.ran, ['nil', 'answer']);
  assert.deepEqual(no.trace, [['nil', 'none'], ['answer', 'reject']]);
  const boom = await call('boom@y.test');
  assert.equal(boom.v?.kind === 'tempfail' && boom.v.reply.enhanced, '4.3.0');
  assert.deepEqual(boom.trace, [['nil', 'none'], ['answer', 'none'], ['boom', 'error']]);
  assert.ok(h.logs.some((l) => l.event === 'hook.error' && l.plugin === 'boom' && String(l.msg).includes('sync kaboom')));
  const bad = await call('x@y.test');
  assert.equal(bad.v?.kind, 'tempfail');
  assert.deepEqual(bad.trace.at(-1), ['bad', 'error']);
  assert.equal(h.metrics.get('hook_errors_total', { hook: 'smtp.rcptTo', plugin: 'bad' }), 1);
  await h.close();
});

test('a tap over its time budget is aborted and becomes a tempfail', async () => {
  let aborted = false;
  const h = await createPluginHarness({
    timeoutMs: 50,
    plugins: [[mk('slow', (hooks) => hooks.smtp.connect.tap(async (_s, _p, { signal }) => {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 5000);
        signal.addEventListener('abort', () => { aborted = true; clearTimeout(t); resolve(); });
      });
      return { kind: 'accept' };
    })), {}]],
  });
  const s = h.makeSession();
  const v = await h.hooks.smtp.connect.call(s, {}, s.callTrace());
  assert.equal(v?.kind, 'tempfail');
  assert.match(v?.kind === 'tempfail' ? v.reply.text : '', /timed out/);
  assert.equal(aborted, true);
  assert.equal(s.trace[0]?.outcome, 'timeout');
  assert.equal(h.metrics.get('hook_timeouts_total', { hook: 'smtp.connect', plugin: 'slow' }), 1);
  await h.close();
});

test('a malformed verdict (wrong kind for the hook, wrong code class) is a tempfail, not a pass', async () => {
  const h = await createPluginHarness({
    plugins: [
      [mk('bad', (hooks) => {
        hooks.smtp.connect.tap(async () => ({ kind: 'quarantine', reason: 'x' }) as never);
        hooks.smtp.helo.tap(async () => ({ kind: 'reject', reply: { code: 250, text: 'ok?' } }));
      }), {}],
    ],
  });
  const s = h.makeSession();
  assert.equal((await h.hooks.smtp.connect.call(s, {}))?.kind, 'tempfail');
  assert.equal((await h.hooks.smtp.helo.call(s, { verb: 'HELO', host: 'x' }))?.kind, 'tempfail');
  await h.close();
});

test('notification hooks run every tap and swallow failures', async () => {
  const ran: string[] = [];
  const h = await createPluginHarness({
    plugins: [
      [mk('x', (hooks) => hooks.smtp.disconnect.tap(async () => { ran.push('x'); throw new Error('no'); })), {}],
      [mk('y', (hooks) => hooks.smtp.disconnect.tap(async () => { ran.push('y'); })), {}],
    ],
  });
  await h.hooks.smtp.disconnect.call(h.makeSession(), { reason: 'quit' });
  assert.deepEqual(ran, ['x', 'y']);
  await h.close();
});

test('dispose runs in reverse order and aborts the plugin signal', async () => {
  const order: string[] = [];
  let signal: AbortSignal | undefined;
  const h = await createPluginHarness({
    plugins: [
      [mk('one', (_h, ctx) => { signal = ctx.signal; return () => { order.push('one'); }; }), {}],
      [mk('two', () => () => { order.push('two'); }), {}],
    ],
  });
  await h.close();
  assert.deepEqual(order, ['two', 'one']);
  assert.equal(signal?.aborted, true);
});
