import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyStrict, recordTags } from './alignment.ts';
import { DmarcConfig } from './config.ts';
import type { DmarcOutcome } from './evaluate.ts';
import { dmarcAction, dmarcReplies, dmarcResInfo, effectivePolicy } from './policy.ts';

const fail = (over: Partial<DmarcOutcome> = {}): DmarcOutcome => ({ result: 'fail', fromDomain: 'example.com', policy: 'reject', p: 'reject', pct: 100, ...over });

test('pct samples the policy; outside the sample the next milder one applies (RFC 7489 §6.6.4)', () => {
  assert.equal(effectivePolicy(fail({ pct: 30 }), true, 29.9), 'reject');
  assert.equal(effectivePolicy(fail({ pct: 30 }), true, 30), 'quarantine');
  assert.equal(effectivePolicy(fail({ policy: 'quarantine', pct: 0 }), true, 0), 'none');
  assert.equal(effectivePolicy(fail({ pct: 0 }), false, 50), 'reject');
});

test('actions follow the applied policy and the config', () => {
  const cfg = DmarcConfig.parse({ quarantineAction: 'tag' });
  assert.equal(dmarcAction(cfg, fail(), 'reject'), 'reject');
  assert.equal(dmarcAction(cfg, fail(), 'quarantine'), 'tag');
  assert.equal(dmarcAction(cfg, fail(), 'none'), 'ignore');
  assert.equal(dmarcAction(cfg, { result: 'pass', fromDomain: 'example.com', policy: 'reject' }, 'reject'), 'ignore');
  assert.equal(dmarcAction(DmarcConfig.parse({ temperrorAction: 'tempfail' }), { result: 'temperror', fromDomain: 'x' }, 'none'), 'tempfail');
});

test('the reject reply names the domain and the policy', () => {
  const r = dmarcReplies(fail(), 'reject');
  assert.deepEqual(r.reject, { code: 550, enhanced: '5.7.1', text: 'Message rejected: it fails the DMARC policy of example.com (p=reject)' });
  assert.equal(r.tempfail.code, 451);
});

test('strict alignment needs the exact From domain; relaxed keeps mailauth\'s answer', () => {
  const tags = recordTags('v=DMARC1; p=reject; adkim=s; aspf=r');
  assert.equal(tags.get('adkim'), 's');
  const relaxed = { spf: 'bounce.example.com', dkim: 'mail.example.com' };
  assert.deepEqual(applyStrict('example.com', tags, relaxed, { spf: ['bounce.example.com'], dkim: ['mail.example.com'] }), { spf: 'bounce.example.com' });
  assert.deepEqual(applyStrict('Example.com', tags, relaxed, { spf: [], dkim: ['mail.example.com', 'EXAMPLE.COM'] }), { spf: 'bounce.example.com', dkim: 'example.com' });
});

test('the A-R resinfo shows the published and the applied policy', () => {
  assert.deepEqual(dmarcResInfo(fail({ pct: 0 }), 'quarantine'), { method: 'dmarc', result: 'fail', comment: 'p=REJECT pct=0 applied=QUARANTINE', props: [['header', 'from', 'example.com']] });
});
