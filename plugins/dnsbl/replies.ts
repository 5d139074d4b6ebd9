import type { Reply } from '../../core/verdict.ts';

/**
 * The replies a listing gets. At connect: 554 / 421 (RFC 5321 §3.1, §4.2.3); at RCPT: 550 / 450.
 * They name the list so a wrongly listed sender knows where to ask for removal.
 */
export function replies(where: 'connect' | 'rcpt', ip: string, zone: string): { reject: Reply; tempfail: Reply } {
  const client = `[${ip.replace(/^::ffff:(?=\d+\.)/i, '')}]`;
  if (where === 'connect') {
    return {
      reject: { code: 554, enhanced: '5.7.1', text: `Service unavailable; client ${client} listed at ${zone}` },
      tempfail: { code: 421, enhanced: '4.7.1', text: `Service temporarily unavailable; client ${client} listed at ${zone}` },
    };
  }
  return {
    reject: { code: 550, enhanced: '5.7.1', text: `Rejected: client ${client} listed at ${zone}; postmaster is still reachable` },
    tempfail: { code: 450, enhanced: '4.7.1', text: `Try again later: client ${client} listed at ${zone}` },
  };
}

/** `postmaster@any-domain` or the bare `postmaster` (RFC 5321 §4.5.1), case-insensitively. */
export function isPostmaster(address: string): boolean {
  return /^postmaster(@[^@]*)?$/i.test(address.trim());
}
