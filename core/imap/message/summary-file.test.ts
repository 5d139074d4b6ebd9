// On-disk folder summaries: a second cache (a restarted server) answers from the file without
// opening a message; corrupt lines and expunged messages are skipped.
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { FolderView } from '../../store/mail-store.ts';
import { bodyStructure, envelope, StructureCache } from './index.ts';
import { FORWARD, NESTED, SIMPLE } from './test-messages.ts';
import { folderWith } from './test-support.ts';

function counting(view: FolderView): { view: FolderView; reads: () => number } {
  let reads = 0;
  const wrapped = new Proxy(view, {
    get(target, prop) {
      if (prop === 'read') return (...a: Parameters<FolderView['read']>) => ((reads += 1), target.read(...a));
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...x: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { view: wrapped, reads: () => reads };
}

test('a second cache loads structures from the summary file instead of parsing messages', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-imap-summary-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const { view, uids } = await folderWith(t, [SIMPLE, NESTED, FORWARD]);
  const first = new StructureCache({ dir });
  const parsed = await Promise.all(uids.map((u) => first.get(view, u)));
  await first.flush();
  const files = await fsp.readdir(dir);
  assert.equal(files.length, 1);
  assert.match(files[0] ?? '', new RegExp(`-${view.uidValidity}\\.jsonl$`));

  // A torn line and a foreign one are ignored.
  await fsp.appendFile(path.join(dir, files[0] ?? ''), '{"u":99,"s":1,"r":{}}\n{"u":1,"s":\n');
  const { view: counted, reads } = counting(view);
  const second = new StructureCache({ dir });
  for (const [i, u] of uids.entries()) {
    const s = await second.get(counted, u);
    const p = parsed[i];
    assert.ok(p);
    assert.deepEqual(s.root, p.root);
    assert.deepEqual(envelope(s), envelope(p));
    assert.deepEqual(bodyStructure(s, true), bodyStructure(p, true));
  }
  assert.equal(reads(), 0, 'no message was opened');
});

test('expunged messages are not loaded; new ones are parsed and appended', async (t) => {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-imap-summary-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true }));
  const { view, uids, store } = await folderWith(t, [SIMPLE, NESTED]);
  const first = new StructureCache({ dir });
  for (const u of uids) await first.get(view, u);
  await first.flush();
  await view.setFlags([uids[0] ?? 0], { mode: 'add', flags: ['\\Deleted'] });
  await view.expunge();
  const added = await store.append('alice@example.test', 'INBOX', FORWARD);
  await view.refresh();
  const { view: counted, reads } = counting(view);
  const second = new StructureCache({ dir });
  assert.equal((await second.get(counted, uids[1] ?? 0)).size, NESTED.length);
  assert.equal(reads(), 0);
  assert.equal((await second.get(counted, added.uid)).size, FORWARD.length);
  assert.equal(reads(), 1);
  await second.flush();
  const lines = (await fsp.readFile(path.join(dir, (await fsp.readdir(dir))[0] ?? ''), 'utf8')).trim().split('\n');
  assert.equal(lines.length, 4); // version line, two first entries, the new one
});
