/**
 * DKIM verification (RFC 6376) of a whole message through mailauth, streamed. Also collects what
 * the arc plugin needs (the ARC sets mailauth parses on the same pass), so a message is read once.
 */
import type { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth';
import type { MailauthResolver } from '../../core/auth-results/resolver.ts';
import { hasSignatureFields, headerFromAddresses, readHeaderBytes, splitHeaderFields } from './header-scan.ts';

/** Longest header section the unsigned-message shortcut reads; longer ones go to mailauth. */
const MAX_SCAN_HEADER_BYTES = 256 * 1024;

export type DkimResult = 'pass' | 'fail' | 'neutral' | 'policy' | 'temperror' | 'permerror';

export interface DkimSignatureOutcome {
  readonly result: DkimResult;
  /** d= */
  readonly domain: string;
  /** s= */
  readonly selector: string;
  /** a= */
  readonly algorithm: string;
  /** The first 8 characters of b= (RFC 6008), to tell signatures of one domain apart. */
  readonly bPrefix: string;
  /** d= is aligned with the RFC5322.From domain (relaxed, RFC 7489 §3.1.1). */
  readonly aligned: boolean;
  /** l= left part of the body unsigned (RFC 6376 §8.2). */
  readonly underSized: boolean;
  readonly comment?: string;
}

export interface DkimOutcome {
  /** Empty when the message is not signed. */
  readonly signatures: readonly DkimSignatureOutcome[];
  /** The RFC5322.From addresses (DMARC needs exactly one). */
  readonly headerFrom: readonly string[];
  /** mailauth's parsed ARC sets, opaque here; the arc plugin verifies them. */
  readonly arcData: unknown;
}

interface RawStatus { result?: string; comment?: string | false; aligned?: string | false; underSized?: number; header?: { a?: string; b?: string | false } }
interface RawResult { signingDomain?: string; selector?: string; algo?: string; status: RawStatus }

function mapResult(s: RawStatus): DkimResult {
  // mailauth reports a body hash mismatch as neutral; RFC 6376 §6.1.3 makes it a failed
  // verification (PERMFAIL), which RFC 8601 §2.7.1 reports as fail.
  if (s.result === 'neutral' && s.comment === 'body hash did not verify') return 'fail';
  switch (s.result) {
    case 'pass': case 'fail': case 'neutral': case 'policy': case 'permerror': return s.result;
    case 'temperror': case 'temperr': return 'temperror';
    default: return 'neutral';
  }
}

export async function verifyDkim(message: Readable, opts: { resolver: MailauthResolver; sender: string; minBitLength: number }): Promise<DkimOutcome> {
  const res = await dkimVerify(message, { resolver: opts.resolver, sender: opts.sender, minBitLength: opts.minBitLength });
  const signatures = (res.results as unknown as RawResult[])
    // mailauth adds one pseudo result "none, message not signed" to unsigned messages.
    .filter((r) => r.signingDomain)
    .map((r): DkimSignatureOutcome => ({
      result: mapResult(r.status),
      domain: (r.signingDomain ?? '').toLowerCase(),
      selector: r.selector ?? '',
      algorithm: r.algo ?? r.status.header?.a ?? '',
      bPrefix: typeof r.status.header?.b === 'string' ? r.status.header.b : '',
      aligned: Boolean(r.status.aligned),
      underSized: Boolean(r.status.underSized),
      ...(r.status.comment ? { comment: r.status.comment } : {}),
    }));
  return { signatures, headerFrom: res.headerFrom ?? [], arcData: res.arc };
}

/**
 * The outcome for a message with no DKIM-Signature and no ARC field, from its header section
 * alone (RFC 6376 §6.1: no signature, result none; nothing in the body to hash). Undefined when
 * there is something to verify, or the header section is too long to scan: then call verifyDkim.
 * The From list and the ARC data are what mailauth returns for such a message.
 */
export async function unsignedOutcome(message: Readable): Promise<DkimOutcome | undefined> {
  const header = await readHeaderBytes(message, MAX_SCAN_HEADER_BYTES);
  if (!header) return undefined;
  const fields = splitHeaderFields(header);
  if (hasSignatureFields(fields)) return undefined;
  return { signatures: [], headerFrom: headerFromAddresses(fields), arcData: { chain: false } };
}
