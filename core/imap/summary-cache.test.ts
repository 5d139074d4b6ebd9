/**
 * The service keeps per-folder structure summaries under <dataDir>/imap-cache: written by the first
 * FETCH ENVELOPE, flushed at shutdown, and used by the next server on the same data directory with
 * the same answers.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, rm, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { addUser } from '../../test/helpers/mail.ts';
import { startTestServer } from '../testing/server-harness.ts';
import { ALICE, ALICE_PASSWORD, ImapWire, PLUGINS, tagged } from './test-support.ts';

const MESSAGE = (n: number) => `From: "Sender ${n}" <s${n}@example.test>\r\nTo: alice@imap.test\r\nSubject: note ${n}\r\nMessage-ID: <m${n}@example.test>\r\n\r\nbody ${n}\r\n`;

async function session(port: number, fn: (cmd: (text: string) => Promise<string[]>, w: ImapWire) => Promise<void>): Promise<void> {
  const w = await ImapWire.connect(port, { tls: true });
  try {
    await w.readResponse();
    const cmd = (text: string) => w.command(text);
    assert.match(tagged(await cmd(`LOGIN "${ALICE}" "${ALICE_PASSWORD}"`)), / OK /);
    await fn(cmd, w);
  } finally {
    await w.close();
  }
}

test('structure summaries survive a restart in <dataDir>/imap-cache and give the same ENVELOPEs', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'pochta-imap-summary-'));
  t.after(() => rm(dataDir, { recursive: true, force: true, maxRetries: 5 }));
  let first: string[] = [];
  const a = await startTestServer({ dataDir, config: { plugins: PLUGINS }, setup: (dir) => addUser(dir, ALICE, ALICE_PASSWORD) });
  try {
    await session(a.port('imaps'), async (cmd, w) => {
      for (const n of [1, 2, 3]) {
        const tag = w.nextTag();
        const raw = MESSAGE(n);
        w.write(`${tag} APPEND INBOX {${Buffer.byteLength(raw)}+}\r\n${raw}\r\n`);
        assert.match(tagged(await w.untilTagged(tag)), / OK /);
      }
      assert.match(tagged(await cmd('SELECT INBOX')), / OK /);
      first = await cmd('UID FETCH 1:* (FLAGS ENVELOPE)');
    });
  } finally {
    await a.close(true);
  }
  assert.equal(first.filter((l) => l.includes(' FETCH (')).length, 3);
  assert.match(first.join('\n'), /ENVELOPE \(NIL "note 2" \(\("Sender 2" NIL "s2" "example\.test"\)\)/);
  const files = await readdir(path.join(dataDir, 'imap-cache'));
  assert.equal(files.length, 1, 'one summary file for the one folder');
  const lines = (await readFile(path.join(dataDir, 'imap-cache', files[0]), 'utf8')).trim().split('\n');
  assert.deepEqual(lines.slice(1).map((l) => (JSON.parse(l) as { u: number }).u).sort(), [1, 2, 3]);

  const b = await startTestServer({ dataDir, config: { plugins: PLUGINS } });
  try {
    await session(b.port('imaps'), async (cmd) => {
      assert.match(tagged(await cmd('SELECT INBOX')), / OK /);
      const again = await cmd('UID FETCH 1:* (FLAGS ENVELOPE)');
      // \Recent belongs to the first session that saw the messages; the rest must be identical.
      const strip = (ls: string[]) => ls.slice(0, -1).map((l) => l.replace(' FLAGS (\\Recent)', ' FLAGS ()'));
      assert.deepEqual(strip(again), strip(first));
    });
  } finally {
    await b.close(true);
  }
});
