/**
 * FETCH of index items and ENVELOPE only (commands/fetch.ts fetchLines: responses written straight
 * into a batch buffer, ENVELOPE bytes memoised on the cached head) against the general path, with
 * 8-bit header text (literal lengths in bytes), an ENVELOPE larger than one 64 KiB batch, flags
 * changed by another session after the heads were cached, and CHANGEDSINCE.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALICE, ALICE_PASSWORD, ImapWire, startImapServer, tagged } from './test-support.ts';

const UTF8_SUBJECT = 'Grüße ☃ für alle';
const LONG_SUBJECT = Array.from({ length: 2000 }, (_, i) => `word${i}`).join(' '); // ~19 KB, longer than the first head read
const MESSAGES = [
  'From: "Ann" <ann@example.test>\r\nTo: alice@imap.test\r\nSubject: plain\r\nMessage-ID: <p@example.test>\r\n\r\nbody\r\n',
  `From: Bea <bea@example.test>\r\nSubject: ${UTF8_SUBJECT}\r\n\r\nbody\r\n`,
  `From: Cid <cid@example.test>\r\nSubject: ${LONG_SUBJECT.repeat(4)}\r\n\r\nbody\r\n`, // ~76 KB ENVELOPE: more than one batch
];

async function login(port: number): Promise<ImapWire> {
  const w = await ImapWire.connect(port, { tls: true });
  await w.readResponse();
  assert.match(tagged(await w.command(`LOGIN "${ALICE}" "${ALICE_PASSWORD}"`)), / OK /);
  return w;
}

const fetchLines = (lines: readonly string[]): string[] => lines.filter((l) => / FETCH \(/.test(l) && l.includes('ENVELOPE'));

test('FETCH (FLAGS ENVELOPE) fast path: same bytes as the general path, 8-bit text, big envelopes, flags of other sessions, CHANGEDSINCE', async (t) => {
  const srv = await startImapServer();
  t.after(() => srv.close());
  const a = await login(srv.port('imaps'));
  t.after(() => a.close());
  for (const raw of MESSAGES) {
    const bytes = Buffer.from(raw, 'utf8');
    const tag = a.nextTag();
    a.write(Buffer.concat([Buffer.from(`${tag} APPEND INBOX {${bytes.length}+}\r\n`), bytes, Buffer.from('\r\n')]));
    assert.match(tagged(await a.untilTagged(tag)), / OK /);
  }
  assert.match(tagged(await a.command('SELECT INBOX')), / OK /);

  const cold = fetchLines(await a.command('FETCH 1:* (FLAGS ENVELOPE)'));
  const warm = fetchLines(await a.command('FETCH 1:* (FLAGS ENVELOPE)'));
  assert.equal(cold.length, 3);
  assert.deepEqual(warm, cold, 'from the cached heads: the same bytes');
  // The wire reader splits literals by their announced length: a wrong byte count would garble this.
  assert.ok(cold[1]?.includes(`{${Buffer.byteLength(UTF8_SUBJECT)}}\r\n${Buffer.from(UTF8_SUBJECT).toString('latin1')} `), cold[1]);
  assert.ok(cold[2]?.includes(LONG_SUBJECT.repeat(4)), 'the long subject whole');
  assert.match(cold[0] ?? '', /^\* 1 FETCH \(FLAGS \(\\Recent\) ENVELOPE \(NIL "plain" \(\("Ann" NIL "ann" "example\.test"\)\)/);

  // The general path (a header section beside them) gives the same FLAGS and ENVELOPE text.
  const general = (await a.command('FETCH 1:* (FLAGS ENVELOPE BODY.PEEK[HEADER.FIELDS (X-NONE)])')).filter((l) => / FETCH \(/.test(l));
  assert.equal(general.length, 3);
  general.forEach((line, i) => assert.ok(line.startsWith(`${cold[i]?.slice(0, -1)} BODY[HEADER.FIELDS (X-NONE)] `), `message ${i + 1}`));

  const modseqs = (await a.command('FETCH 1:* (MODSEQ)')).map((l) => /MODSEQ \((\d+)\)/.exec(l)?.[1]).filter((m) => m !== undefined).map(Number);
  const highest = Math.max(...modseqs);

  // Another session changes flags after the heads (and ENVELOPE bytes) were cached.
  const b = await login(srv.port('imaps'));
  t.after(() => b.close());
  assert.match(tagged(await b.command('SELECT INBOX')), / OK /);
  assert.match(tagged(await b.command('STORE 2 +FLAGS.SILENT (\\Flagged $Work)')), / OK /);

  const after = fetchLines(await a.command('FETCH 1:* (FLAGS ENVELOPE)'));
  assert.match(after[1] ?? '', /^\* 2 FETCH \(FLAGS \(\\Flagged \$Work \\Recent\) ENVELOPE \(/, 'the new flags, with the cached ENVELOPE');
  assert.equal(after[1]?.replace(/^\* 2 FETCH \(FLAGS \([^)]*\) /, ''), cold[1]?.replace(/^\* 2 FETCH \(FLAGS \([^)]*\) /, ''));
  assert.equal(after[0], cold[0]);

  // CONDSTORE (RFC 7162 §3.1.4.1): only what changed since, with its MODSEQ.
  const changed = await a.command(`UID FETCH 1:* (FLAGS ENVELOPE) (CHANGEDSINCE ${highest})`);
  const lines = changed.filter((l) => / FETCH \(UID/.test(l));
  assert.equal(lines.length, 1, changed.join('\n'));
  assert.match(lines[0] ?? '', /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged \$Work \\Recent\) ENVELOPE \(.* MODSEQ \(\d+\)\)$/s);
  assert.match(tagged(changed), / OK /);
});
