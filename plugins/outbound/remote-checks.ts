import { composeMessage } from '../../core/queue/compose.ts';
import type { RemoteJob, RemoteOutcome } from '../../core/queue/remote.ts';
import { hasEightBit } from './eight-bit.ts';
import { localFailure } from './outcome.ts';

/**
 * What the next hop announced (EHLO keywords) against what the message needs, before any
 * transaction: a permanent failure for every recipient, or how to send (BODY=8BITMIME or not).
 */
export async function checkRemote(job: RemoteJob, ext: ReadonlyMap<string, string>, mx: string): Promise<{ fail: RemoteOutcome } | { eightBit: boolean }> {
  const size = job.size + job.headerPrefix.length;
  const maxSize = Number(ext.get('SIZE') ?? 0);
  // RFC 1870 §6.1: a message larger than the server's declared SIZE will not be accepted.
  if (ext.has('SIZE') && maxSize > 0 && size > maxSize) {
    return { fail: localFailure('permfail', 552, '5.3.4', `message too big for ${mx}: ${size} bytes, it accepts at most ${maxSize} (SIZE)`, mx) };
  }
  // RFC 6531 §3.2: an SMTPUTF8 message goes only to a server that offers SMTPUTF8 (no downgrade).
  if (job.mailFrom.smtpUtf8 && !ext.has('SMTPUTF8')) {
    return { fail: localFailure('permfail', 553, '5.6.7', `the message needs SMTPUTF8 (internationalized addresses or headers) and ${mx} does not offer it`, mx) };
  }
  // RFC 8689 §4.2.1: a REQUIRETLS message is relayed only to a server that offers REQUIRETLS.
  if (job.mailFrom.requireTls && !ext.has('REQUIRETLS')) {
    return { fail: localFailure('permfail', 550, '5.7.30', `REQUIRETLS is required by the sender and ${mx} does not offer it`, mx) };
  }
  if (job.mailFrom.body !== '8bitmime') return { eightBit: false };
  if (ext.has('8BITMIME')) return { eightBit: true };
  // RFC 6152 §3: 8-bit data must not go to a server without 8BITMIME. Pochta does not re-encode;
  // a declared-8-bit body that really has 8-bit bytes is bounced, a 7-bit one goes as it is.
  if (await hasEightBit(composeMessage(job.headerPrefix, job.body, job.removeHeaders))) {
    return { fail: localFailure('permfail', 554, '5.6.3', `the message has 8-bit content and ${mx} does not offer 8BITMIME; it was not converted`, mx) };
  }
  return { eightBit: false };
}
