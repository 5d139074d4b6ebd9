import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Dialogue } from '../../testing/dialogue.ts';
import { startTestServer } from '../../testing/server-harness.ts';
import { RecordingNotifier } from './recording-notifier.ts';
import type { SmtpSink } from './smtp-sink.ts';

export const RELAY_PLUGIN = path.join(path.dirname(fileURLToPath(import.meta.url)), 'smtp-relay-plugin.ts');

/** Lines of a JSON-lines file (empty when it does not exist yet). */
export async function jsonLines<T = Record<string, any>>(file: string): Promise<T[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/**
 * A server whose remote recipients go over SMTP to `sink`, with a recording notifier. Files live
 * in `work` (data directory, hook events, notices); `close()` removes it unless `keep`.
 */
export async function startQueueServer(sink: SmtpSink, queue: Record<string, unknown> = {}, work?: string) {
  const dir = work ?? (await mkdtemp(path.join(tmpdir(), 'pochta-queue-')));
  const dataDir = path.join(dir, 'data');
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const events = path.join(dir, 'events.jsonl');
  const notices = path.join(dir, 'notices.jsonl');
  // In place before the queue resumes: a message already in the spool may be tried at once.
  const notifier = new RecordingNotifier(notices);
  const t = await startTestServer({
    dataDir,
    notifier,
    config: {
      queue: { remoteRetryBaseMs: 100, remoteRetryMaxMs: 1000, retryBaseMs: 100, ...queue },
      plugins: {
        'relay-acl': { networks: ['127.0.0.1'] },
        'test-relay': { module: RELAY_PLUGIN, port: sink.port, events },
      },
    },
  });
  return {
    ...t, dir, notifier, notices, events,
    async close(keep = false) {
      await t.close();
      if (!keep) await rm(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

/**
 * One message over a raw SMTP dialogue, so RCPT parameters (NOTIFY) and the null sender can be
 * given. Returns the queue id from the 250 reply.
 */
export async function sendRaw(port: number, from: string, rcpts: string[], body: string): Promise<string> {
  const d = await Dialogue.connect(port);
  try {
    await d.reply();
    await d.cmd('EHLO client.test');
    const m = await d.cmd(`MAIL FROM:<${from}>`);
    if (!m.startsWith('250')) throw new Error(`MAIL: ${m}`);
    for (const r of rcpts) {
      const reply = await d.cmd(`RCPT TO:${r}`);
      if (!reply.startsWith('250')) throw new Error(`RCPT ${r}: ${reply}`);
    }
    await d.cmd('DATA');
    const end = await d.cmd(`${body.replace(/\r?\n/g, '\r\n')}\r\n.`);
    const id = /queued as ([0-9A-Z]{20})/.exec(end)?.[1];
    if (!id) throw new Error(`DATA: ${end}`);
    await d.cmd('QUIT').catch(() => '');
    return id;
  } finally {
    d.close();
  }
}
