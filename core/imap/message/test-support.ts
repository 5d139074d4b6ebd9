/** Helpers for this folder's tests: a real MaildirStore in a temp dir holding given messages. */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { FolderView, MessageSource } from '../../store/mail-store.ts';
import { MaildirStore } from '../../../plugins/maildir/maildir-store.ts';

export const USER = 'alice@example.test';

export async function folderWith(
  t: { after: (fn: () => Promise<void>) => void },
  messages: readonly (MessageSource | { source: MessageSource; flags?: readonly string[]; internalDate?: Date })[],
): Promise<{ view: FolderView; uids: number[]; store: MaildirStore }> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-imap-msg-'));
  const store = new MaildirStore({ root, hostname: 'mx.example.test' });
  const uids: number[] = [];
  for (const m of messages) {
    const entry = m instanceof Uint8Array || 'path' in m || 'stream' in m ? { source: m } : m;
    const opts = { ...(entry.flags && { flags: entry.flags }), ...(entry.internalDate && { internalDate: entry.internalDate }) };
    uids.push((await store.append(USER, 'INBOX', entry.source, opts)).uid);
  }
  const view = await store.open(USER, 'INBOX');
  t.after(async () => {
    await view.close();
    await store.close();
    await fsp.rm(root, { recursive: true, force: true, maxRetries: 5 });
  });
  return { view, uids, store };
}

export async function bytesOf(data: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(data)) return data;
  const chunks: Buffer[] = [];
  for await (const c of data) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
