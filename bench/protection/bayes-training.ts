// Trains the full variant's spam classifier before a run, so spam-score's Bayes test really runs
// (untrained, it is skipped: minLearned messages of each class are needed). The messages are
// generated: spam-like and ham-like words, distinct per message, 4 KB like the measured load.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

/** Learned messages of each class: the spam-score default minLearned (20) plus some. */
export const TRAIN_PER_CLASS = 30;

const SPAM_WORDS = ['winner', 'free', 'prize', 'viagra', 'casino', 'bitcoin', 'offer', 'limited', 'click', 'unsubscribe', 'cheap', 'loan', 'guaranteed', 'bonus', 'urgent'];
const HAM_WORDS = ['meeting', 'report', 'invoice', 'project', 'schedule', 'review', 'team', 'quarter', 'agenda', 'draft', 'budget', 'minutes', 'deadline', 'customer', 'release'];

function message(label: 'spam' | 'ham', i: number): string {
  const words = label === 'spam' ? SPAM_WORDS : HAM_WORDS;
  const body: string[] = [];
  for (let line = 0; line < 50; line++) {
    body.push(Array.from({ length: 10 }, (_, w) => words[(i * 7 + line * 3 + w) % words.length]).join(' ') + ` n${i}x${line}`);
  }
  return [
    `From: ${label}${i}@${label}.example`,
    'To: user@bench.test',
    `Subject: ${words[i % words.length]} ${words[(i + 5) % words.length]} ${i}`,
    `Message-ID: <${label}-${i}@bench.test>`,
    'Date: Fri, 27 Nov 2026 12:00:00 +0000',
    '',
    ...body,
    '',
  ].join('\r\n');
}

/**
 * Queues TRAIN_PER_CLASS spam and ham messages with `pochta spam learn` (as an admin would); the
 * server learns them when it starts. Returns how many 'learned' log lines to wait for.
 */
export function queueTraining(repo: string, configFile: string, dir: string): number {
  const bin = path.join(repo, 'bin', 'pochta.js');
  for (const label of ['spam', 'ham'] as const) {
    const d = path.join(dir, `train-${label}`);
    fs.mkdirSync(d, { recursive: true });
    const files = Array.from({ length: TRAIN_PER_CLASS }, (_, i) => {
      const f = path.join(d, `${i}.eml`);
      fs.writeFileSync(f, message(label, i));
      return f;
    });
    const r = spawnSync(process.execPath, [bin, '--config', configFile, 'spam', 'learn', `--${label}`, ...files], {
      cwd: repo, encoding: 'utf8', timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`pochta spam learn --${label} failed: ${r.stderr}`);
  }
  return 2 * TRAIN_PER_CLASS;
}

/** Waits (bounded) until the server's log shows `n` messages learned. */
export async function waitLearned(logFile: string, n: number, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < end; i++) {
    const text = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
    const learned = text.split('\n').filter((l) => l.includes('"spam-score.learned"')).length;
    if (learned >= n) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`the classifier did not learn ${n} messages within ${timeoutMs} ms (see ${logFile})`);
}
