import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createPluginHarness } from 'pochta/testing';
import plugin from './index.ts';
import { isListed } from './match.ts';

test('isListed matches whole addresses and @domains, ignoring case', () => {
  assert.equal(isListed('Spam@Bad.Example', ['spam@bad.example']), true);
  assert.equal(isListed('anyone@bad.example', ['@bad.example']), true);
  assert.equal(isListed('ok@good.example', ['@bad.example']), false);
  assert.equal(isListed('', ['@bad.example']), false);
});

test('a listed sender is refused at MAIL FROM with 550 5.7.1', async () => {
  const h = await createPluginHarness({ plugins: [[plugin, { senders: ['@bad.example'] }]] });
  try {
    const session = h.makeSession();
    const tx = h.makeTransaction(session, 'someone@bad.example');
    const v = await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom);
    assert.equal(v?.kind, 'reject');
    assert.equal(v?.kind === 'reject' && v.reply.code, 550);
    assert.equal(v?.kind === 'reject' && v.reply.enhanced, '5.7.1');
    const ok = h.makeTransaction(session, 'friend@good.example');
    assert.equal(await h.hooks.smtp.mailFrom.call(ok, ok.mailFrom), undefined);
  } finally {
    await h.close();
  }
});

test('action tag records evidence and lets the mail through', async () => {
  const h = await createPluginHarness({ plugins: [[plugin, { senders: ['x@bad.example'], action: 'tag' }]] });
  try {
    const tx = h.makeTransaction(h.makeSession(), 'x@bad.example');
    assert.equal(await h.hooks.smtp.mailFrom.call(tx, tx.mailFrom), undefined);
    assert.deepEqual(tx.evidence.map((e) => e.result), ['listed']);
  } finally {
    await h.close();
  }
});
