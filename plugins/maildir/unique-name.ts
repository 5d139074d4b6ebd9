/**
 * Unique Maildir file names (https://cr.yp.to/proto/maildir.html, "modern" form):
 * `<seconds>.M<usec>P<pid>Q<counter>R<random>.<host>`. The counter belongs to the namer instance (one per
 * store) and keeps its names apart; the random part, drawn once per instance, keeps two processes
 * (or instances) with a recycled pid and counter apart.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export class UniqueNamer {
  private counter = 0;
  private readonly host: string;
  private readonly salt = randomBytes(8).toString('hex');

  constructor(hostname: string) {
    this.host = sanitizeHost(hostname);
  }

  next(): string {
    const nowUs = Math.floor((performance.timeOrigin + performance.now()) * 1000);
    const seconds = Math.floor(nowUs / 1_000_000);
    const usec = nowUs % 1_000_000;
    this.counter++;
    return `${seconds}.M${usec}P${process.pid}Q${this.counter}R${this.salt}.${this.host}`;
  }
}

/**
 * The spec escapes "/" as \057 and ":" as \072; "," is escaped too because Maildir++ puts `,S=<size>`
 * after the host. Anything else unusual is escaped the same octal way so the name stays one safe entry.
 */
export function sanitizeHost(hostname: string): string {
  const safe = hostname.replace(/[^A-Za-z0-9.-]/g, (c) =>
    [...Buffer.from(c)].map((b) => `\\${b.toString(8).padStart(3, '0')}`).join(''),
  );
  return safe.length > 0 ? safe : 'localhost';
}
