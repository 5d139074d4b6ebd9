import { randomBytes } from 'node:crypto';

/**
 * Queue ids: sortable by time, unique without coordination, safe as file names.
 * 10 chars of base-36 milliseconds, 1 char naming the worker process that received the
 * message (0 in single-process mode), 9 random base-32 chars.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const MAX_WORKERS = ALPHABET.length - 1;

export function newQueueId(now = Date.now(), worker = 0): string {
  if (!Number.isInteger(worker) || worker < 0 || worker > MAX_WORKERS) throw new Error(`worker id out of range: ${worker}`);
  const t = now.toString(36).toUpperCase().padStart(10, '0');
  const rnd = randomBytes(9);
  let r = ALPHABET[worker];
  for (const b of rnd) r += ALPHABET[b & 31];
  return t + r;
}

/** The worker that received the message, from its id. */
export function workerOf(id: string): number {
  return ALPHABET.indexOf(id[10] ?? '0');
}

/**
 * Which spooled messages a process recovers at start. In multi-process mode each worker owns the
 * messages it received, so a restarting worker never touches a body another worker is still
 * writing; worker 1 also adopts those of single-process runs and of workers that no longer exist.
 */
export function ownsQueueId(id: string, worker: number, workers: number): boolean {
  if (workers <= 1) return true;
  const w = workerOf(id);
  return w === worker || (worker === 1 && (w === 0 || w > workers));
}

export const QUEUE_ID = /^[0-9A-Z]{20}$/;
