/**
 * Messages to learn, dropped as files into `<learnDir>/spam/` and `<learnDir>/ham/` by
 * `pochta spam learn` (which works whether or not the server runs: a stopped server learns them
 * at its next start). The server picks them up, learns, and removes them. Files that cannot be
 * parsed are moved to `<learnDir>/failed/` with the reason logged, never retried in a loop.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { readFacts } from './message-facts.ts';
import type { MessageFacts } from './rules.ts';
import type { Label, TokenStore } from './token-store.ts';

export const LABELS: readonly Label[] = ['spam', 'ham'];

/** A stable name for "this message": its Message-ID, else a digest of its first 64 KB. */
export function messageDigest(facts: MessageFacts, head: Buffer): string {
  const id = facts.headers.get('message-id')?.[0]?.trim();
  return createHash('sha256').update(id ? `id:${id}` : head).digest('hex').slice(0, 32);
}

export async function readHead(file: string, n = 65_536): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

export interface LearnOutcome {
  file: string;
  label: Label;
  result: 'learned' | 'relearned' | 'known' | 'failed';
  error?: string;
}

/** Learn every file waiting in the queue (at most `limit` per call, so one call stays short). */
export async function drainLearnQueue(
  dir: string,
  store: TokenStore,
  tokensOf: (f: MessageFacts) => string[],
  maxScanBytes: number,
  limit = 200,
): Promise<LearnOutcome[]> {
  const out: LearnOutcome[] = [];
  for (const label of LABELS) {
    const sub = path.join(dir, label);
    let names: string[];
    try {
      names = (await readdir(sub)).filter((n) => !n.startsWith('.')).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      if (out.length >= limit) return out;
      const file = path.join(sub, name);
      try {
        const facts = await readFacts(createReadStream(file), maxScanBytes);
        const result = await store.learn(messageDigest(facts, await readHead(file)), tokensOf(facts), label);
        await unlink(file);
        out.push({ file, label, result });
      } catch (err) {
        await mkdir(path.join(dir, 'failed'), { recursive: true });
        await rename(file, path.join(dir, 'failed', `${label}-${name}`)).catch(() => unlink(file).catch(() => undefined));
        out.push({ file, label, result: 'failed', error: (err as Error).message });
      }
    }
  }
  return out;
}
