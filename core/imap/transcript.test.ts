/**
 * Exact protocol replies over a raw socket against the whole server: greeting, capabilities per
 * state, STARTTLS, LOGIN/AUTHENTICATE, literals (synchronising, LITERAL+, too large), BAD/NO cases
 * where the session goes on, SELECT responses, FETCH/STORE/EXPUNGE transcripts, untagged updates
 * between sessions at the allowed points, IDLE, and the extensions' responses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ALICE, ALICE_PASSWORD, BOB, BOB_PASSWORD, ImapWire, startImapServer, tagged } from './test-support.ts';

/** Responses with the tag of the tagged one replaced by "T", so transcripts do not depend on tag numbers. */
const untag = (lines: readonly string[]) => lines.map((l) => l.replace(/^[Aa]\d+ /, 'T '));
const cmd = async (w: ImapWire, text: string) => untag(await w.command(text));
const MSG = 'From: a@b.test\r\nSubject: transcript\r\n\r\nbody line\r\n';

describe('IMAP transcripts', () => {
  let t: Awaited<ReturnType<typeof startImapServer>>;
  const wires: ImapWire[] = [];
  before(async () => {
    t = await startImapServer({ imap: { maxLineLength: 2048, maxLiteralSize: 4096 } });
  });
  after(async () => {
    for (const w of wires) await w.close();
    await t.close();
  });

  async function connect(opts: { tls?: boolean } = {}): Promise<ImapWire> {
    const w = await ImapWire.connect(opts.tls ? t.port('imaps') : t.port('imap'), opts);
    wires.push(w);
    return w;
  }

  async function loggedIn(user = ALICE, pass = ALICE_PASSWORD): Promise<ImapWire> {
    const w = await connect({ tls: true });
    await w.readResponse();
    assert.match(tagged(await cmd(w, `LOGIN "${user}" "${pass}"`)), /^T OK /);
    return w;
  }

  async function append(w: ImapWire, folder: string, raw: string, flags = ''): Promise<number> {
    const tag = w.nextTag();
    w.write(`${tag} APPEND ${folder} ${flags ? `(${flags}) ` : ''}{${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`);
    const r = tagged(await w.untilTagged(tag));
    const m = /OK \[APPENDUID \d+ (\d+)\]/.exec(r);
    assert.ok(m, r);
    return Number(m[1]);
  }

  test('greeting and capabilities before TLS: no software name, STARTTLS, LOGINDISABLED, no AUTH=', async () => {
    const w = await connect();
    const greeting = await w.readResponse();
    assert.equal(greeting, '* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS LOGINDISABLED] IMAP4rev1 ready');
    const caps = await cmd(w, 'CAPABILITY');
    assert.deepEqual(caps, ['* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE STARTTLS LOGINDISABLED', 'T OK CAPABILITY completed']);
    assert.equal(tagged(await cmd(w, `LOGIN ${ALICE} "${ALICE_PASSWORD}"`)), 'T NO [PRIVACYREQUIRED] LOGIN is disabled before STARTTLS');
    assert.deepEqual(await cmd(w, 'ID ("name" "probe" "version" "1")'), ['* ID NIL', 'T OK ID completed']);
    assert.deepEqual(untag(await w.startTls()), ['T OK Begin TLS negotiation now']);
    const after = await cmd(w, 'CAPABILITY');
    assert.equal(after[0], '* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR ID ENABLE IDLE AUTH=PLAIN');
    assert.equal(tagged(await cmd(w, 'STARTTLS')), 'T BAD TLS is already active');
    const login = tagged(await cmd(w, `LOGIN ${ALICE} "${ALICE_PASSWORD}"`));
    assert.match(login, /^T OK \[CAPABILITY IMAP4rev1 .*UIDPLUS MOVE SPECIAL-USE .*CONDSTORE.*\] LOGIN completed$/);
    assert.deepEqual(await cmd(w, 'LOGOUT'), ['* BYE Logging out', 'T OK LOGOUT completed']);
  });

  test('AUTHENTICATE PLAIN with a continuation and with SASL-IR; failures get AUTHENTICATIONFAILED', async () => {
    const w = await connect({ tls: true });
    await w.readResponse();
    w.write('a1 AUTHENTICATE PLAIN\r\n');
    assert.equal(await w.readResponse(), '+ ');
    w.write(Buffer.from(`\0${ALICE}\0wrong`).toString('base64') + '\r\n');
    assert.equal(await w.readResponse(), 'a1 NO [AUTHENTICATIONFAILED] Authentication failed');
    w.write('a2 AUTHENTICATE PLAIN\r\n');
    assert.equal(await w.readResponse(), '+ ');
    w.write('*\r\n');
    assert.equal(await w.readResponse(), 'a2 BAD AUTHENTICATE cancelled');
    const ir = Buffer.from(`\0${ALICE}\0${ALICE_PASSWORD}`).toString('base64');
    assert.match(tagged(await cmd(w, `AUTHENTICATE PLAIN ${ir}`)), /^T OK \[CAPABILITY .*\] AUTHENTICATE completed$/);
    assert.match(tagged(await cmd(w, 'LOGIN x y')), /^T BAD LOGIN: Not allowed now$/);
  });

  test('five failed logins end the connection with BYE; auth.failed fires for each', async () => {
    const failed: string[] = [];
    const owner = { name: 'observer', timeoutMs: 1000, log: t.server.log, signal: new AbortController().signal };
    t.server.runtime.hooks.auth.failed.tap(owner, async (a, x) => void failed.push(`${a.protocol} ${a.mechanism} ${x.username}`));
    const w = await connect({ tls: true });
    await w.readResponse();
    for (let i = 0; i < 5; i++) assert.equal(tagged(await cmd(w, `LOGIN ${BOB} "nope ${i}"`)), 'T NO [AUTHENTICATIONFAILED] Authentication failed');
    assert.equal(await w.readResponse(), '* BYE Too many failed logins');
    await assert.rejects(w.readResponse(), /connection closed/);
    assert.deepEqual(failed, Array.from({ length: 5 }, () => `imap LOGIN ${BOB}`));
  });

  test('literals: synchronising gets "+", LITERAL+ does not; too large ones are refused before any byte and the session goes on', async () => {
    const w = await connect({ tls: true });
    await w.readResponse();
    w.write(`a1 LOGIN {${ALICE.length}}\r\n`);
    assert.equal(await w.readResponse(), '+ Ready for literal data');
    w.write(`${ALICE} {${ALICE_PASSWORD.length}+}\r\n${ALICE_PASSWORD}\r\n`);
    assert.match(await w.readResponse(), /^a1 OK /);
    // Over maxLiteralSize (4096): NO [TOOBIG] at once, no continuation.
    w.write('a2 APPEND INBOX {5000}\r\n');
    assert.equal(await w.readResponse(), 'a2 NO [TOOBIG] Literal too large (limit 4096 octets)');
    // A non-synchronising one too large: its bytes are dropped (not buffered), then the refusal.
    w.write(`a3 APPEND INBOX {5000+}\r\n${'x'.repeat(5000)} trailing\r\n`);
    assert.equal(await w.readResponse(), 'a3 NO [TOOBIG] Literal too large (limit 4096 octets)');
    // Non-APPEND commands have a small literal limit (64 KiB).
    w.write('a4 SELECT {70000}\r\n');
    assert.equal(await w.readResponse(), 'a4 NO [TOOBIG] Literal too large (limit 65536 octets)');
    assert.equal(tagged(await cmd(w, 'NOOP')), 'T OK NOOP completed');
    const uid = await append(w, 'INBOX', MSG);
    assert.ok(uid > 0);
  });

  test('malformed input gets BAD with a reason and the session goes on', async () => {
    const w = await loggedIn();
    const cases: Array<[string, RegExp]> = [
      ['FROBNICATE', /BAD Unknown command FROBNICATE$/],
      ['FETCH 1 FLAGS', /BAD FETCH: Select a mailbox first$/],
      ['SELECT', /BAD Missing argument \(an astring\)$/],
      ['SELECT "INBOX', /BAD Unterminated quoted string$/],
      ['LIST "" "*" extra', /BAD Expected RETURN$/],
      ['STATUS INBOX (MESSAGES BOGUS)', /BAD Unknown STATUS item BOGUS$/],
      ['UID FROB 1', /BAD Unknown UID command FROB$/],
    ];
    for (const [text, re] of cases) assert.match(tagged(await cmd(w, text)), re, text);
    await cmd(w, 'SELECT INBOX');
    const selectedCases: Array<[string, RegExp]> = [
      ['FETCH 0 FLAGS', /BAD Zero is not a valid number here$/],
      ['FETCH 99999 FLAGS', /BAD Invalid message sequence number$/],
      ['FETCH 1 (FLAGS', /BAD Unterminated parenthesised list$/],
      ['FETCH 1 BODY[HEADER.FIELDS ()]', /BAD Invalid header field list$/],
      ['SEARCH ' + '('.repeat(40) + 'ALL' + ')'.repeat(40), /BAD Search program too deeply nested$/],
      ['SEARCH FROBBED', /BAD Unknown search key FROBBED$/],
      ['SEARCH BEFORE 31-Feb-2020', /BAD Invalid date "31-Feb-2020"$/],
      ['STORE 1 FLAGZ (\\Seen)', /BAD Unknown STORE item FLAGZ$/],
      ['STORE 1 +FLAGS (\\Recent)', /BAD \\Recent cannot be stored$/],
    ];
    for (const [text, re] of selectedCases) assert.match(tagged(await cmd(w, text)), re, text);
    // An overlong line (limit 2048) is BAD, discarded to its end; the next command works.
    const long = tagged(await cmd(w, 'NOOP ' + 'x'.repeat(3000)));
    assert.match(long, /BAD Command line too long \(limit 2048 octets\)$/);
    assert.match(tagged(await cmd(w, 'NOOP')), /OK NOOP completed$/);
  });

  test('garbage in any state gets BAD (or NO) and never kills the session; APPEND exactly at the limit is taken', async () => {
    // Deterministic pseudo-random bytes (no braces, so no literal is announced by accident).
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const lines: Buffer[] = [];
    for (let i = 0; i < 30; i++) {
      const len = 1 + Math.floor(rnd() * 120);
      const b = Buffer.alloc(len);
      for (let j = 0; j < len; j++) {
        let c = Math.floor(rnd() * 256);
        if (c === 0x0a || c === 0x0d || c === 0x7b) c = 0x20;
        b[j] = c;
      }
      lines.push(b);
    }
    const crafted = ['a1 LOGIN {abc}', 'a2 LOGIN {99999999999999999}', 'a3 (((((', 'a4 UID', 'a5 NOOP extra', '', '    ', 'a6 SELECT "\\q"', 'a7 FETCH'];
    const fresh = await connect({ tls: true });
    await fresh.readResponse();
    for (const w of [fresh, await loggedIn()]) {
      for (const l of [...lines, ...crafted.map((c) => Buffer.from(c))]) w.write(Buffer.concat([l, Buffer.from('\r\n')]));
      w.write('z NOOP\r\n');
      const got: string[] = [];
      for (let i = 0; i < 200; i++) {
        const r = await w.readResponse();
        got.push(r);
        if (r.startsWith('z ')) break;
      }
      assert.equal(got.at(-1), 'z OK NOOP completed');
      assert.ok(got.slice(0, -1).every((r) => /^(\S+ (BAD|NO) |\* OK \[CAPABILITY)/.test(r)), got.filter((r) => !/ (BAD|NO) /.test(r)).join('|'));
      assert.equal(got.length - 1, lines.length + crafted.length, 'one answer per line');
    }
    const w = await loggedIn();
    const exact = 'Subject: x\r\n\r\n' + 'y'.repeat(4096 - 14);
    assert.equal(Buffer.byteLength(exact), 4096);
    w.write(`b1 APPEND INBOX {4096}\r\n`);
    assert.equal(await w.readResponse(), '+ Ready for literal data');
    w.write(exact + '\r\n');
    assert.match(tagged(await w.untilTagged('b1')), /^b1 OK \[APPENDUID /);
    w.write('b2 APPEND INBOX {4097}\r\n');
    assert.equal(await w.readResponse(), 'b2 NO [TOOBIG] Literal too large (limit 4096 octets)');
  });

  test('SELECT responses, FETCH with and without PEEK, STORE and .SILENT, EXPUNGE', async () => {
    const w = await loggedIn(BOB, BOB_PASSWORD);
    const u1 = await append(w, 'Drafts', MSG, '\\Draft');
    const u2 = await append(w, 'Drafts', MSG);
    const sel = await cmd(w, 'SELECT Drafts');
    assert.equal(sel[0], '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)');
    assert.equal(sel[1], '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted');
    assert.equal(sel[2], '* 2 EXISTS');
    assert.match(sel[3], /^\* \d+ RECENT$/);
    assert.equal(sel[4], '* OK [UNSEEN 1] First unseen');
    assert.match(sel[5], /^\* OK \[UIDVALIDITY \d+\] UIDs valid$/);
    assert.equal(sel[6], `* OK [UIDNEXT ${u2 + 1}] Predicted next UID`);
    assert.match(sel[7], /^\* OK \[HIGHESTMODSEQ \d+\] Highest$/);
    assert.equal(sel[8], 'T OK [READ-WRITE] SELECT completed');
    const size = Buffer.byteLength(MSG);
    assert.deepEqual(await cmd(w, 'FETCH 1 (UID RFC822.SIZE BODY.PEEK[]<0.4>)'), [`* 1 FETCH (UID ${u1} RFC822.SIZE ${size} BODY[]<0> {4}\r\nFrom)`, 'T OK FETCH completed']);
    assert.deepEqual(await cmd(w, 'FETCH 1 (FLAGS)'), ['* 1 FETCH (FLAGS (\\Draft))', 'T OK FETCH completed']);
    // Without PEEK: \Seen is set and FLAGS is added to the response (RFC 3501 §6.4.5).
    assert.deepEqual(await cmd(w, 'FETCH 1 BODY[]'), [`* 1 FETCH (BODY[] {${size}}\r\n${MSG} FLAGS (\\Draft \\Seen))`, 'T OK FETCH completed']);
    assert.deepEqual(await cmd(w, `UID FETCH ${u2} RFC822.SIZE`), [`* 2 FETCH (UID ${u2} RFC822.SIZE ${size})`, 'T OK UID FETCH completed']);
    assert.deepEqual(await cmd(w, 'STORE 1:2 +FLAGS (\\Flagged $Later)'), [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Later)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Later \\*)] Flags permitted',
      '* 1 FETCH (FLAGS (\\Draft \\Flagged \\Seen $Later))', '* 2 FETCH (FLAGS (\\Flagged $Later \\Recent))', 'T OK STORE completed']);
    assert.deepEqual(await cmd(w, 'STORE 2 -FLAGS.SILENT ($Later)'), ['T OK STORE completed']);
    assert.deepEqual(await cmd(w, `UID STORE ${u2} FLAGS (\\Deleted)`), [`* 2 FETCH (UID ${u2} FLAGS (\\Deleted \\Recent))`, 'T OK UID STORE completed']);
    assert.deepEqual(await cmd(w, 'EXPUNGE'), ['* 2 EXPUNGE', 'T OK EXPUNGE completed']);
    assert.deepEqual(await cmd(w, 'FETCH 1:* UID'), [`* 1 FETCH (UID ${u1})`, 'T OK FETCH completed']);
    // CONDSTORE: UNCHANGEDSINCE 1 fails for a message changed since (MODIFIED), MODSEQ in FETCH.
    const cond = await cmd(w, 'STORE 1 (UNCHANGEDSINCE 1) +FLAGS (\\Answered)');
    assert.equal(tagged(cond), 'T OK [MODIFIED 1] Conditional STORE failed for some messages');
    assert.match((await cmd(w, 'FETCH 1 (MODSEQ)'))[0], /^\* 1 FETCH \(MODSEQ \(\d+\)\)$/);
    // CLOSE expunges silently; UNSELECT does not.
    await cmd(w, 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await cmd(w, 'CLOSE'), ['T OK CLOSE completed']);
    assert.match((await cmd(w, 'STATUS Drafts (MESSAGES UIDNEXT)'))[0], /^\* STATUS Drafts \(MESSAGES 0 UIDNEXT \d+\)$/);
    assert.equal(tagged(await cmd(w, 'FETCH 1 FLAGS')), 'T BAD FETCH: Select a mailbox first');
  });

  test('another session\'s changes: EXISTS and FETCH FLAGS at once, EXPUNGE held back during FETCH, sent at NOOP', async () => {
    const a = await loggedIn(BOB, BOB_PASSWORD);
    const b = await loggedIn(BOB, BOB_PASSWORD);
    await cmd(a, 'CREATE Shared');
    const u1 = await append(a, 'Shared', MSG);
    const u2 = await append(a, 'Shared', MSG);
    await cmd(a, 'SELECT Shared');
    await cmd(b, 'SELECT Shared');
    await cmd(a, `UID STORE ${u1} +FLAGS.SILENT (\\Flagged \\Deleted)`);
    await cmd(a, `UID EXPUNGE ${u1}`);
    const u3 = await append(a, 'Shared', MSG);
    // FETCH (not UID): no EXPUNGE (RFC 3501 §7.4.1), but the new message is announced.
    const f = await cmd(b, 'FETCH 1:* (UID)');
    assert.ok(!f.some((l) => / EXPUNGE$/.test(l)), f.join('|'));
    assert.ok(f.includes('* 3 EXISTS'), f.join('|'));
    const n = await cmd(b, 'NOOP');
    assert.deepEqual(n, ['* 1 EXPUNGE', 'T OK NOOP completed']);
    assert.deepEqual(await cmd(b, 'FETCH 1:* (UID)'), [`* 1 FETCH (UID ${u2})`, `* 2 FETCH (UID ${u3})`, 'T OK FETCH completed']);
    await cmd(a, `UID STORE ${u3} +FLAGS.SILENT (\\Answered)`);
    assert.deepEqual(await cmd(b, 'NOOP'), [`* 2 FETCH (UID ${u3} FLAGS (\\Answered))`, 'T OK NOOP completed']);
    await cmd(a, `UID STORE ${u3} +FLAGS.SILENT ($Phishing)`);
    assert.deepEqual(await cmd(b, 'NOOP'), [
      '* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Phishing)',
      '* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Phishing \\*)] Flags permitted',
      `* 2 FETCH (UID ${u3} FLAGS (\\Answered $Phishing))`, 'T OK NOOP completed']);
  });

  test('IDLE: "+", an update from another session at once, DONE ends it', async () => {
    const a = await loggedIn(BOB, BOB_PASSWORD);
    const b = await loggedIn(BOB, BOB_PASSWORD);
    await cmd(a, 'CREATE Idle');
    const sel = await cmd(b, 'SELECT Idle');
    assert.ok(sel.includes('* 0 EXISTS'));
    b.write('i1 IDLE\r\n');
    assert.equal(await b.readResponse(), '+ idling');
    await append(a, 'Idle', MSG);
    assert.equal(await b.readResponse(), '* 1 EXISTS');
    assert.match(await b.readResponse(), /^\* \d RECENT$/);
    b.write('DONE\r\n');
    assert.equal(await b.readResponse(), 'i1 OK IDLE terminated');
  });

  test('extensions: NAMESPACE, ENABLE, LIST variants, LSUB, MOVE, UNSELECT, EXAMINE is read-only', async () => {
    const w = await loggedIn();
    assert.deepEqual(await cmd(w, 'NAMESPACE'), ['* NAMESPACE (("" ".")) NIL NIL', 'T OK NAMESPACE completed']);
    assert.deepEqual(await cmd(w, 'ENABLE CONDSTORE X-UNKNOWN'), ['* ENABLED CONDSTORE', 'T OK ENABLE completed']);
    assert.deepEqual(await cmd(w, 'LIST "" ""'), ['* LIST (\\Noselect) "." ""', 'T OK LIST completed']);
    assert.deepEqual(await cmd(w, 'LIST "" "J%"'), ['* LIST (\\HasNoChildren \\Junk) "." Junk', 'T OK LIST completed']);
    const special = await cmd(w, 'LIST (SPECIAL-USE) "" "*"');
    assert.deepEqual(special.slice(0, -1).map((l) => l.split(' ').pop()).sort(), ['Archive', 'Drafts', 'Junk', 'Sent', 'Trash']);
    assert.match(tagged(await cmd(w, 'CREATE "Proj\u00e9t"')), /BAD Mailbox name is not valid modified UTF-7$/);
    await cmd(w, 'CREATE Proj&AOk-t');
    const listed = await cmd(w, 'LIST "" "Proj*" RETURN (STATUS (MESSAGES UIDNEXT) SUBSCRIBED)');
    assert.deepEqual(listed, ['* LIST (\\HasNoChildren) "." Proj&AOk-t', '* STATUS Proj&AOk-t (MESSAGES 0 UIDNEXT 1)', 'T OK LIST completed']);
    await cmd(w, 'SUBSCRIBE Proj&AOk-t');
    assert.deepEqual(await cmd(w, 'LSUB "" "Proj*"'), ['* LSUB () "." Proj&AOk-t', 'T OK LSUB completed']);
    assert.ok((await cmd(w, 'LIST (SUBSCRIBED) "" "*"')).includes('* LIST (\\HasNoChildren \\Subscribed) "." Proj&AOk-t'));
    await cmd(w, 'CREATE Lists.ietf');
    await cmd(w, 'SUBSCRIBE Lists.ietf');
    assert.deepEqual(await cmd(w, 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)'), [
      '* LIST (\\HasNoChildren \\Subscribed \\Archive) "." Archive', '* LIST (\\HasNoChildren \\Subscribed \\Drafts) "." Drafts',
      '* LIST (\\HasNoChildren \\Subscribed \\Junk) "." Junk', '* LIST (\\HasChildren) "." Lists ("CHILDINFO" ("SUBSCRIBED"))',
      '* LIST (\\HasNoChildren \\Subscribed) "." Proj&AOk-t', '* LIST (\\HasNoChildren \\Subscribed \\Sent) "." Sent',
      '* LIST (\\HasNoChildren \\Subscribed \\Trash) "." Trash', 'T OK LIST completed']);
    assert.match(tagged(await cmd(w, 'LIST (RECURSIVEMATCH) "" "%"')), /BAD RECURSIVEMATCH needs another selection option$/);
    assert.deepEqual(await cmd(w, 'LSUB "" "L%"'), ['* LSUB (\\Noselect) "." Lists', 'T OK LSUB completed']);
    assert.deepEqual(await cmd(w, 'LIST "" "L%"'), ['* LIST (\\Noselect \\HasChildren) "." Lists', 'T OK LIST completed']);
    assert.deepEqual(await cmd(w, 'LIST "" "L*"'), ['* LIST (\\HasNoChildren) "." Lists.ietf', 'T OK LIST completed']);
    const uid = await append(w, 'Proj&AOk-t', MSG);
    await cmd(w, 'SELECT Proj&AOk-t');
    const moved = await cmd(w, `UID MOVE ${uid} Archive`);
    assert.match(moved[0], new RegExp(`^\\* OK \\[COPYUID \\d+ ${uid} \\d+\\] Moved$`));
    assert.equal(moved[1], '* 1 EXPUNGE');
    assert.match(tagged(moved), /OK UID MOVE completed$/);
    assert.match(tagged(await cmd(w, 'COPY 1 Nowhere')), /BAD Invalid message sequence number$/);
    await append(w, 'Proj&AOk-t', MSG);
    await cmd(w, 'NOOP');
    assert.equal(tagged(await cmd(w, 'COPY 1 Nowhere')), 'T NO [TRYCREATE] No such mailbox');
    assert.deepEqual(await cmd(w, 'UNSELECT'), ['T OK UNSELECT completed']);
    const ex = await cmd(w, 'EXAMINE Proj&AOk-t');
    assert.equal(tagged(ex), 'T OK [READ-ONLY] EXAMINE completed');
    assert.equal(tagged(await cmd(w, 'STORE 1 +FLAGS (\\Seen)')), 'T NO [READ-ONLY] Mailbox is read-only');
    assert.equal(tagged(await cmd(w, 'DELETE INBOX')), 'T NO [CANNOT] INBOX cannot be deleted');
    assert.match(tagged(await cmd(w, 'SELECT Nonexistent')), /^T NO \[NONEXISTENT\]/);
    assert.equal(tagged(await cmd(w, 'FETCH 1 FLAGS')), 'T BAD FETCH: Select a mailbox first', 'a failed SELECT deselects');
  });
});
