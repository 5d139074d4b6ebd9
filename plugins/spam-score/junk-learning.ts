/**
 * Learning from users: a message a user files into Junk (IMAP COPY/MOVE) is learned as spam; a
 * message a user files out of Junk into another folder is learned as ham when we had called it
 * spam (our X-Spam-Status said Yes, or it was learned as spam before). Deliveries never teach:
 * only moves and copies made by a client session (`byClient`) do.
 */
import type { Readable } from 'node:stream';
import type { MailStore } from '../../core/store/mail-store.ts';
import { readFacts } from './message-facts.ts';
import type { MessageFacts } from './rules.ts';
import type { Label, TokenStore } from './token-store.ts';
import { messageDigest } from './learn-queue.ts';

export interface JunkLearnerDeps {
  store: MailStore;
  tokens: TokenStore;
  tokensOf: (f: MessageFacts) => string[];
  maxScanBytes: number;
  junkFolder: string;
  /** Folders whose arrivals mean nothing (a user deleting spam moves it to Trash). */
  ignoreFolders: readonly string[];
}

async function head(stream: Readable, n: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for await (const c of stream) {
    const b = c as Buffer;
    chunks.push(b);
    got += b.length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(chunks).subarray(0, n);
}

export async function learnFromFiling(d: JunkLearnerDeps, user: string, folder: string, uids: readonly number[]): Promise<Array<{ uid: number; label: Label; result: string }>> {
  const intoJunk = folder === d.junkFolder;
  if (!intoJunk && d.ignoreFolders.includes(folder)) return [];
  const view = await d.store.open(user, folder, { readOnly: true });
  const out: Array<{ uid: number; label: Label; result: string }> = [];
  try {
    for (const uid of uids.slice(0, 500)) {
      if (!view.get(uid)) continue;
      const facts = await readFacts(await view.read(uid), d.maxScanBytes);
      const digest = messageDigest(facts, await head(await view.read(uid, { start: 0, end: 65_536 }), 65_536));
      if (intoJunk) {
        out.push({ uid, label: 'spam', result: await d.tokens.learn(digest, d.tokensOf(facts), 'spam') });
        continue;
      }
      const flagged = (facts.headers.get('x-spam-status') ?? []).some((v) => /^\s*yes\b/i.test(v));
      if (flagged || (await d.tokens.labelOf(digest)) === 'spam') {
        out.push({ uid, label: 'ham', result: await d.tokens.learn(digest, d.tokensOf(facts), 'ham') });
      }
    }
  } finally {
    await view.close();
  }
  return out;
}
