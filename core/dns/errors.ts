/**
 * DNS errors callers tell apart by `code`. The codes are node's (ENOTFOUND = NXDOMAIN, ENODATA =
 * NODATA, ETIMEOUT, ESERVFAIL, …) because mailauth and other libraries test for exactly those.
 */
export class DnsError extends Error {
  readonly code: string;
  readonly hostname: string;
  readonly rrtype: string;

  constructor(code: string, rrtype: string, hostname: string, message?: string) {
    // No stack: these are answers (3 NXDOMAINs per message from the block lists alone), made in
    // I/O callbacks where the stack says nothing, and capturing it was a visible share of a lookup.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(message ?? `${rrtype} ${hostname}: ${code}`);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'DnsError';
    this.code = code;
    this.hostname = hostname;
    this.rrtype = rrtype;
  }
}

/** The lookup ran out of time: no answer, which is not the same as "no such name". */
export const ETIMEOUT = 'ETIMEOUT';

export function dnsErrorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** NXDOMAIN or NODATA: the name (or the type at the name) does not exist — an answer, not a failure. */
export function isNegative(err: unknown): boolean {
  const code = dnsErrorCode(err);
  return code === 'ENOTFOUND' || code === 'ENODATA';
}

export function isTimeout(err: unknown): boolean {
  return dnsErrorCode(err) === ETIMEOUT;
}
