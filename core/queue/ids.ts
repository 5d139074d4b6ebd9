import { randomBytes } from 'node:crypto';

/**
 * Queue ids: sortable by time, unique without coordination, safe as file names.
 * 10 chars of base-36 milliseconds plus 10 random base-32 chars.
 */
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

export function newQueueId(now = Date.now()): string {
  const t = now.toString(36).toUpperCase().padStart(10, '0');
  const rnd = randomBytes(10);
  let r = '';
  for (const b of rnd) r += ALPHABET[b & 31];
  return t + r;
}

export const QUEUE_ID = /^[0-9A-Z]{20}$/;
