import net from 'node:net';
import { createInterface } from 'node:readline';
import type { QueueAdmin, QueueRow, QueueStats } from './admin.ts';
import type { ControlRequest } from './control.ts';

/** Longest answer line accepted from the server (a listed message with many recipients). */
const MAX_LINE = 16 * 1024 * 1024;

/** One request on one connection; yields every answer line. */
export async function* controlRequest(socketPath: string, req: ControlRequest): AsyncGenerator<Record<string, unknown>> {
  const s = net.connect(socketPath);
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    s.write(JSON.stringify(req) + '\n');
    const lines = createInterface({ input: s, crlfDelay: Infinity });
    for await (const line of lines) {
      if (line.length > MAX_LINE) throw new Error('answer line too long');
      if (line) yield JSON.parse(line) as Record<string, unknown>;
    }
  } finally {
    s.destroy();
  }
}

async function final(socketPath: string, req: ControlRequest): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> | undefined;
  for await (const m of controlRequest(socketPath, req)) last = m;
  if (!last) throw new Error('the server closed the control connection without an answer');
  if (typeof last.error === 'string') throw new Error(`server: ${last.error}`);
  return last;
}

/**
 * The admin of a running server, over its control socket(s): one per process (several in
 * multi-process mode, each owning the messages it received).
 */
export class RemoteQueueAdmin implements QueueAdmin {
  constructor(private readonly sockets: readonly string[]) {}

  async *list(): AsyncIterable<QueueRow> {
    const rows: QueueRow[] = [];
    for (const p of this.sockets) {
      for await (const m of controlRequest(p, { op: 'list' })) {
        if (typeof m.error === 'string') throw new Error(`server: ${m.error}`);
        if (!m.row) continue;
        // One process: stream as it comes. Several: merge by id (arrival order).
        if (this.sockets.length === 1) yield m.row as QueueRow;
        else rows.push(m.row as QueueRow);
      }
    }
    rows.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    yield* rows;
  }

  async show(id: string): Promise<{ row: QueueRow; bodyPath: string } | undefined> {
    for (const p of this.sockets) {
      const m = await final(p, { op: 'show', id });
      if (m.ok) return m.show as { row: QueueRow; bodyPath: string };
    }
    return undefined;
  }

  async #any(op: 'retry' | 'delete' | 'bounce', id: string): Promise<boolean> {
    for (const p of this.sockets) if ((await final(p, { op, id })).ok) return true;
    return false;
  }

  retry(id: string): Promise<boolean> {
    return this.#any('retry', id);
  }

  delete(id: string): Promise<boolean> {
    return this.#any('delete', id);
  }

  bounce(id: string): Promise<boolean> {
    return this.#any('bounce', id);
  }

  async retryAll(): Promise<number> {
    let n = 0;
    for (const p of this.sockets) n += Number((await final(p, { op: 'retryAll' })).count ?? 0);
    return n;
  }

  async hold(): Promise<void> {
    for (const p of this.sockets) await final(p, { op: 'hold' });
  }

  async release(): Promise<number> {
    let n = 0;
    for (const p of this.sockets) n += Number((await final(p, { op: 'release' })).count ?? 0);
    return n;
  }

  async held(): Promise<boolean> {
    for (const p of this.sockets) if ((await final(p, { op: 'held' })).held === true) return true;
    return false;
  }

  async stats(): Promise<QueueStats> {
    const all: QueueStats = { messages: 0, recipients: 0, states: { pending: 0, 'in-flight': 0, deferred: 0, delivered: 0, bounced: 0 } };
    for (const p of this.sockets) {
      const s = (await final(p, { op: 'stats' })).stats as QueueStats;
      all.messages += s.messages;
      all.recipients += s.recipients;
      for (const k of Object.keys(all.states) as Array<keyof QueueStats['states']>) all.states[k] += s.states[k];
      if (s.oldest !== undefined) all.oldest = Math.min(all.oldest ?? Infinity, s.oldest);
    }
    return all;
  }
}
