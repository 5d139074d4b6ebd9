import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SpfOutcome } from './check.ts';
import { SpfConfig } from './config.ts';
import { spfAction, spfReplies, spfResInfo } from './policy.ts';

const o = (result: SpfOutcome['result'], over: Partial<SpfOutcome> = {}): SpfOutcome =>
  ({ result, identity: 'mailfrom', domain: 'example.com', sender: 'a@example.com', clientIp: '192.0.2.1', ...over });

test('each result has its own action; pass, neutral and none only record', () => {
  const cfg = SpfConfig.parse({ failAction: 'reject', softfailAction: 'tag', permerrorAction: 'quarantine', temperrorAction: 'tempfail' });
  assert.deepEqual(['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'].map((r) => spfAction(cfg, o(r as SpfOutcome['result']))),
    ['ignore', 'reject', 'tag', 'ignore', 'ignore', 'tempfail', 'quarantine']);
  assert.equal(spfAction(SpfConfig.parse({}), o('fail')), 'ignore', 'the default only records');
});

test('replies use the RFC 7372 codes', () => {
  assert.equal(spfReplies(o('fail')).reject.enhanced, '5.7.23');
  assert.equal(spfReplies(o('softfail')).tempfail.enhanced, '4.7.23');
  assert.equal(spfReplies(o('temperror')).tempfail.enhanced, '4.7.24');
  assert.equal(spfReplies(o('permerror')).reject.enhanced, '5.7.24');
  assert.match(spfReplies(o('fail')).reject.text, /example\.com does not permit 192\.0\.2\.1/);
});

test('the A-R resinfo names the identity checked', () => {
  assert.deepEqual(spfResInfo(o('pass')).props, [['smtp', 'mailfrom', 'a@example.com']]);
  assert.deepEqual(spfResInfo(o('none', { identity: 'helo', helo: 'mx.example.com', sender: 'postmaster@mx.example.com' })).props, [['smtp', 'helo', 'mx.example.com']]);
});
