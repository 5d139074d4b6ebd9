import { randomBytes } from 'node:crypto';

/**
 * Queue ids: sortable by time, unique without coordination, safe as file names.
 * 10 chars of base-36 milliseconds, 1 char naming the worker process that received the
 * message (0 in single-process mode), 9 random base-32 chars.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
export const MAX_WORKERS = ALPHABET.length - 1;

/** Random bytes drawn in blocks: one syscall per ~450 ids instead of one each. */
class RandomPool {
  #buf = Buffer.alloc(0);
  #pos = 0;
  take(n: number): Buffer {
    if (this.#pos + n > this.#buf.length) {
      this.#buf = randomBytes(4096);
      this.#pos = 0;
    }
    const out = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return out;
  }
}

/** Makes the ids of one process (owned by its SMTP service: no module-level state). */
export class QueueIdFactory {
  readonly #pool = new RandomPool();
  readonly #prefix: string;
  constructor(worker = 0) {
    if (!Number.isInteger(worker) || worker < 0 || worker > MAX_WORKERS) throw new Error(`worker id out of range: ${worker}`);
    this.#prefix = ALPHABET.charAt(worker);
  }

  next(now = Date.now()): string {
    const t = now.toString(36).toUpperCase().padStart(10, '0');
    let r = this.#prefix;
    for (const b of this.#pool.take(9)) r += ALPHABET.charAt(b & 31);
    return t + r;
  }
}

export function newQueueId(now = Date.now(), worker = 0): string {
  return new QueueIdFactory(worker).next(now);
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
