/**
 * Authentication-Results (RFC 8601) formatting: pure, no I/O. One field per message, one resinfo
 * per method result, each on its own folded line:
 *
 *   mail.example.net;
 *     spf=pass smtp.mailfrom=example.com;
 *     dkim=pass header.d=example.com header.s=sel header.a=rsa-sha256 header.b=AbCdEfGh;
 *     dmarc=pass (p=reject) header.from=example.com
 */

/** The methods this server reports, in the order they appear in the field. */
export const METHOD_ORDER = ['spf', 'dkim', 'arc', 'dmarc'] as const;
export type AuthMethod = (typeof METHOD_ORDER)[number];

/** One method result (RFC 8601 §2.2 resinfo). */
export interface ResInfo {
  readonly method: AuthMethod;
  /** pass, fail, softfail, neutral, none, temperror, permerror, policy (RFC 8601 §2.7). */
  readonly result: string;
  /** Shown as a comment after the result; any text, it is escaped. */
  readonly comment?: string;
  /** ptype.property=value (§2.3), e.g. ['smtp', 'mailfrom', 'example.com']. */
  readonly props?: ReadonlyArray<readonly ['smtp' | 'header' | 'body' | 'policy', string, string]>;
}

const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
/** RFC 8601 §2.3 pvalue may be an address or domain: `@` and `.` are allowed unquoted. */
const PVALUE = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~@/=]+$/;

/** A value as a token when it is one, else a quoted-string (RFC 2045 §5.1 value). */
export function quoteValue(v: string, allowAddress = false): string {
  const clean = v.replace(/[\r\n]+/g, ' ');
  if ((allowAddress ? PVALUE : TOKEN).test(clean)) return clean;
  return `"${clean.replace(/(["\\])/g, '\\$1')}"`;
}

/** A comment with its specials escaped (RFC 5322 §3.2.2), kept short. */
export function comment(text: string, max = 200): string {
  const clean = text.replace(/[\r\n\t]+/g, ' ').replace(/[^\x20-\x7e]/g, '?').slice(0, max);
  return `(${clean.replace(/([()\\])/g, '\\$1')})`;
}

export function formatResInfo(r: ResInfo): string {
  const parts = [`${r.method}=${quoteValue(r.result)}`];
  if (r.comment) parts.push(comment(r.comment));
  for (const [ptype, prop, value] of r.props ?? []) {
    if (value !== '') parts.push(`${ptype}.${prop}=${quoteValue(value, true)}`);
  }
  return parts.join(' ');
}

/**
 * The field value: authserv-id, then the results in METHOD_ORDER (stable within a method), or
 * `none` when there is nothing to report (§2.2 no-result). Folded with CRLF + tab between resinfo.
 */
export function formatAuthResults(authservId: string, results: readonly ResInfo[]): string {
  const sorted = [...results].sort((a, b) => METHOD_ORDER.indexOf(a.method) - METHOD_ORDER.indexOf(b.method));
  if (!sorted.length) return `${authservId}; none`;
  return `${authservId};\r\n\t${sorted.map(formatResInfo).join(';\r\n\t')}`;
}
