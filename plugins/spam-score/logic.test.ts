import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { chi2Q, classify, tokenProbability, type TokenCount } from './bayes.ts';
import { decide, fold, statusHeader, symbolName } from './decide.ts';
import { readFacts } from './message-facts.ts';
import { RuleSet } from './rules.ts';
import { tokenize } from './tokenize.ts';
import { evidenceSymbols } from './scorer.ts';

test('tokenize: lower case, once each, subject and url tokens, numbers folded, bounded', () => {
  const t = tokenize({ subject: 'WIN a Prize', from: 'x@Promo.Example.com', text: 'win win WIN 123456 http://Pills.example.com/x ok' });
  assert.ok(t.includes('subject:win') && t.includes('subject:prize'));
  assert.ok(t.includes('from-domain:promo.example.com'));
  assert.ok(t.includes('url:pills.example.com'));
  assert.equal(t.filter((x) => x === 'win').length, 1);
  assert.ok(t.includes('#num'));
  assert.ok(!t.includes('ok'), 'two-letter words are dropped');
  assert.equal(tokenize({ text: Array.from({ length: 500 }, (_, i) => `word${i}`).join(' ') }, 50).length, 50);
});

test('bayes: rare tokens pull to 0.5, telling tokens decide, chi2Q is a probability', () => {
  const totals = { spam: 100, ham: 100 };
  assert.equal(tokenProbability({ spam: 0, ham: 0 }, totals), 0.5);
  assert.ok(tokenProbability({ spam: 1, ham: 0 }, totals) < tokenProbability({ spam: 50, ham: 0 }, totals));
  assert.ok(tokenProbability({ spam: 50, ham: 0 }, totals) > 0.95);
  assert.ok(Math.abs(chi2Q(0, 3) - 1) < 1e-9);
  assert.ok(chi2Q(100, 3) < 1e-6);
  const spammy = new Map<string, TokenCount>(Array.from({ length: 20 }, (_, i) => [`s${i}`, { spam: 40, ham: 1 }]));
  const hammy = new Map<string, TokenCount>(Array.from({ length: 20 }, (_, i) => [`h${i}`, { spam: 1, ham: 40 }]));
  assert.ok(classify(spammy, totals).probability > 0.95);
  assert.ok(classify(hammy, totals).probability < 0.05);
  const mixed = new Map([...spammy, ...hammy]);
  assert.ok(Math.abs(classify(mixed, totals).probability - 0.5) < 0.2, 'equal evidence both ways is uncertain');
  assert.deepEqual(classify(new Map(), totals), { probability: 0.5, used: 0 });
});

test('rules: header, absent, body and combined rules; bad rules are refused with the rule name', () => {
  const rs = new RuleSet([
    { name: 'CAPS', score: 1.5, header: 'Subject', matches: '^[A-Z ]+$', flags: '' },
    { name: 'NO_MID', score: 1, header: 'Message-ID', absent: true, flags: 'i' },
    { name: 'LOTTERY', score: 2, body: true, matches: 'lottery', flags: 'i' },
    { name: 'BOTH', score: 3, all: ['CAPS', 'LOTTERY'], flags: 'i' },
    { name: 'EITHER', score: 0.5, any: ['NO_MID', 'LOTTERY'], flags: 'i' },
  ]);
  const hits = rs.evaluate({ headers: new Map([['subject', ['YOU WON']]]), text: 'The LOTTERY people' });
  assert.deepEqual(hits.map((h) => h.name).sort(), ['BOTH', 'CAPS', 'EITHER', 'LOTTERY', 'NO_MID']);
  assert.deepEqual(rs.evaluate({ headers: new Map([['subject', ['hello']], ['message-id', ['<a@b>']]]), text: 'hi' }), []);
  assert.throws(() => new RuleSet([{ name: 'BAD', score: 1, header: 'Subject', matches: '(', flags: 'i' }]), /rule BAD: bad regular expression/);
  assert.throws(() => new RuleSet([{ name: 'X', score: 1, all: ['NOPE'], flags: 'i' }]), /rule X: refers to unknown rule NOPE/);
  assert.throws(() => new RuleSet([{ name: 'Y', score: 1, header: 'Subject', flags: 'i' }]), /needs matches, exists or absent/);
  assert.throws(() => new RuleSet([{ name: 'Z', score: 1, flags: 'i' }]), /exactly one of/);
});

test('decide: thresholds, symbol names and a folded X-Spam-Status', () => {
  const t = { tag: 5, quarantine: 8, reject: 15 };
  assert.equal(decide([{ name: 'A', score: 2 }], t).outcome, 'ham');
  assert.equal(decide([{ name: 'A', score: 2 }, { name: 'B', score: 3 }], t).outcome, 'tag');
  assert.equal(decide([{ name: 'A', score: 8 }], t).outcome, 'quarantine');
  assert.equal(decide([{ name: 'A', score: 20 }, { name: 'B', score: -4 }], t).outcome, 'reject');
  assert.equal(symbolName('dnsbl', 'zen.spamhaus.org', 'listed'), 'DNSBL_ZEN_SPAMHAUS_ORG_LISTED');
  const d = decide(Array.from({ length: 12 }, (_, i) => ({ name: `SYMBOL_NUMBER_${i}`, score: 1 })), t);
  const v = statusHeader(d, t);
  assert.match(v, /^Yes, score=12\.0 required=5\.0 tests=SYMBOL_NUMBER_0\(1\.0\),/);
  const folded = fold(v, 'X-Spam-Status'.length);
  assert.ok(folded.split('\r\n').every((l) => l.length <= 78), 'folded lines stay short');
  assert.equal(folded.replace(/\r\n\t/g, ''), v);
});

test('evidence scores: own evidence skipped, overrides by plugin/check/result or plugin/check', () => {
  const ev = [
    { plugin: 'dnsbl', check: 'zen', result: 'listed', score: 4 },
    { plugin: 'spf', check: 'spf', result: 'fail', score: 1 },
    { plugin: 'greylist', check: 'triplet', result: 'passed' },
    { plugin: 'spam-score', check: 'score', result: 'tag', score: 9 },
  ];
  assert.deepEqual(evidenceSymbols(ev, { 'spf/spf/fail': 3 }, 'spam-score'), [
    { name: 'DNSBL_ZEN_LISTED', score: 4 }, { name: 'SPF_SPF_FAIL', score: 3 },
  ]);
  assert.deepEqual(evidenceSymbols(ev, { 'dnsbl/zen': 0 }, 'spam-score'), [{ name: 'SPF_SPF_FAIL', score: 1 }]);
});

test('message facts: decoded headers and text, html stripped, attachments skipped, input bounded', async () => {
  const raw = [
    'From: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <a@example.test>',
    'Subject: =?utf-8?b?0J/RgNC40LLQtdGC?=',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: text/html; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    '<p>Caf=C3=A9 <b>lottery</b></p>',
    '--b',
    'Content-Type: application/octet-stream',
    'Content-Transfer-Encoding: base64',
    '',
    Buffer.alloc(3000, 7).toString('base64'),
    '--b--',
    '',
  ].join('\r\n');
  const f = await readFacts(Readable.from([Buffer.from(raw)]), 1 << 20);
  assert.equal(f.headers.get('subject')?.[0], 'Привет');
  assert.match(f.headers.get('from')?.[0] ?? '', /Grüße/);
  assert.match(f.text, /Café/);
  assert.match(f.text, /lottery/);
  assert.doesNotMatch(f.text, /<p>/);
  const cut = await readFacts(Readable.from([Buffer.from('Subject: x\r\n\r\n' + 'a '.repeat(10_000) + 'TAIL')]), 4096);
  assert.doesNotMatch(cut.text, /TAIL/);
});
