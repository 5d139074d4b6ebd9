import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPluginHarness } from '../../core/testing/plugin-harness.ts';
import greylist from '../greylist/index.ts';
import rateLimit from './index.ts';

void test('limits run before ordinary checks listed earlier in the config (stage CHECK - 10)', async () => {
  const h = await createPluginHarness({ plugins: [[greylist, {}], [rateLimit, { recipientsPerIp: { limit: 1, windowMs: 60_000 } }]] });
  try {
    const s = h.makeSession({ remoteAddress: '203.0.113.9' });
    const tx = h.makeTransaction(s);
    const first = await h.hooks.smtp.rcptTo.call(tx, { address: 'u@example.test', args: {} }, tx.callTrace());
    assert.equal(first?.kind, 'tempfail', 'greylisted');
    const second = await h.hooks.smtp.rcptTo.call(tx, { address: 'v@example.test', args: {} }, tx.callTrace());
    assert.deepEqual(second, { kind: 'tempfail', reply: { code: 451, enhanced: '4.7.1', text: 'Too many recipients from your address, try again later' }, disconnect: false });
    assert.deepEqual(tx.trace.map((e) => e.plugin), ['rate-limit', 'greylist', 'rate-limit'], 'rate-limit ran first and answered the second RCPT alone');
  } finally {
    await h.close();
  }
});
