import type { QueueRow, QueueStats } from '../queue/admin.ts';

/** Text output of `pochta queue` (stable: scripts and tests read it). */

const iso = (ms: number) => new Date(ms).toISOString();
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export function formatRow(row: QueueRow): string[] {
  const lines = [`${row.id}  ${iso(row.receivedAt)}  ${row.size} bytes  from ${row.from || '<>'}`];
  for (const r of row.recipients) {
    let line = `  ${r.state.padEnd(9)}  ${r.address}`;
    if (r.target.toLowerCase() !== r.address.toLowerCase()) line += ` (${r.target})`;
    line += `  attempts ${r.attempts}`;
    if (r.nextAttemptAt !== undefined) line += `  next ${iso(r.nextAttemptAt)}`;
    if (r.lastError) line += `  last error: ${r.lastError.replace(/[\r\n]+/g, ' ')}`;
    lines.push(line);
  }
  return lines;
}

export function formatSummary(messages: number, recipients: number): string {
  return messages ? `${plural(messages, 'message')}, ${plural(recipients, 'recipient')}` : 'queue is empty';
}

export function formatStats(s: QueueStats): string[] {
  const rows: Array<[string, string | number]> = [
    ['messages', s.messages],
    ['recipients', s.recipients],
    ...Object.entries(s.states),
    ['oldest', s.oldest === undefined ? '-' : iso(s.oldest)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(11)} ${v}`);
}
