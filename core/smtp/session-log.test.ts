import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import type { Logger } from '../log.ts';
import { Session, Transaction } from './session.ts';
import type { ListenerInfo, MailFrom } from './types.ts';

/** A root logger writing JSON lines into `lines`, counting the children made below it. */
function recording() {
  const lines: Array<Record<string, unknown>> = [];
  let children = 0;
  const root = pino({ base: undefined, timestamp: false }, { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) }) as unknown as Logger;
  const counted = (l: Logger): Logger => new Proxy(l, {
    get(t, p) {
      if (p === 'child') return (...a: Parameters<Logger['child']>) => { children++; return counted(t.child(...a) as unknown as Logger); };
      const v: unknown = Reflect.get(t, p, t);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(t) : v;
    },
  });
  return { log: counted(root), lines, children: () => children };
}

const LISTENER: ListenerInfo = { name: 'mx', kind: 'mx', host: '127.0.0.1', port: 25 };
const FROM = { address: 'a@b.test', args: {}, smtpUtf8: false, body: '7bit', requireTls: false } as MailFrom;

function session(log: Logger) {
  return new Session({
    id: 'S1', listener: LISTENER, remoteAddress: '192.0.2.1', remotePort: 1, localAddress: '127.0.0.1', localPort: 25,
    secure: false, log, logBindings: { session: 'S1', remote: '192.0.2.1' }, openedAt: 0,
  });
}

test('a transaction that only writes its line (or lines below the level) makes no logger child; the line carries session, client and queue id', () => {
  const r = recording();
  const s = session(r.log);
  const tx = new Transaction('Q1', s, FROM);
  s.callTrace();
  tx.callTrace();
  s.log.debug({ event: 'below.the.level' }, 'not written');
  tx.log.debug({ event: 'below.the.level' }, 'not written');
  tx.info({ event: 'smtp.transaction' }, 'transaction');
  assert.equal(r.children(), 0, 'a line below the level makes no child either');
  assert.deepEqual(r.lines[0], { level: 30, session: 'S1', remote: '192.0.2.1', queueId: 'Q1', event: 'smtp.transaction', msg: 'transaction' });
});

test('once a plugin or the core logs through them, the children exist and every line keeps the same fields', () => {
  const r = recording();
  const s = session(r.log);
  const tx = new Transaction('Q2', s, FROM);
  const trace = tx.callTrace();
  trace.log?.info({ event: 'from.a.tap' }, 'x');
  assert.equal(r.children(), 2, 'the session child, then the transaction child');
  tx.info({ event: 'smtp.transaction' }, 'transaction');
  assert.equal(r.children(), 2);
  for (const line of r.lines) assert.deepEqual([line.session, line.remote, line.queueId], ['S1', '192.0.2.1', 'Q2']);
  s.log.info({ event: 'session.line' }, 'y');
  assert.deepEqual([r.lines[2].session, r.lines[2].queueId], ['S1', undefined]);
});
