/** MTA-STS (RFC 8461): parsing the TXT record and the policy, and matching MX hosts. Pure. */

export interface StsPolicy {
  readonly mode: 'enforce' | 'testing' | 'none';
  readonly mx: readonly string[];
  /** Seconds (RFC 8461 §3.2: at most 31557600). */
  readonly maxAge: number;
}

/** RFC 8461 §3.2: at most one year. */
const MAX_AGE_CAP = 31_557_600;

/**
 * The policy id from the `_mta-sts` TXT records (RFC 8461 §3.1), or undefined when there is no
 * valid record. Several records starting with v=STSv1 mean no policy.
 */
export function parseStsRecord(txt: readonly string[][]): string | undefined {
  const records = txt.map((chunks) => chunks.join('')).filter((r) => /^v=STSv1\s*(;|$)/.test(r));
  if (records.length !== 1) return undefined;
  const fields = new Map<string, string>();
  for (const part of records[0].split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const id = fields.get('id');
  return id && /^[A-Za-z0-9]{1,32}$/.test(id) ? id : undefined;
}

/** RFC 8461 §3.2 policy text; undefined when invalid (unknown keys are ignored, as the RFC asks). */
export function parseStsPolicy(text: string): StsPolicy | undefined {
  const fields: Array<[string, string]> = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) return undefined;
    fields.push([line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim()]);
  }
  const get = (k: string) => fields.find(([key]) => key === k)?.[1];
  if (get('version') !== 'STSv1') return undefined;
  const mode = get('mode');
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none') return undefined;
  const maxAgeText = get('max_age');
  if (!maxAgeText || !/^\d{1,10}$/.test(maxAgeText)) return undefined;
  const mx = fields.filter(([k]) => k === 'mx').map(([, v]) => v.toLowerCase().replace(/\.$/, ''));
  if (mode !== 'none' && !mx.length) return undefined;
  return { mode, mx, maxAge: Math.min(Number(maxAgeText), MAX_AGE_CAP) };
}

/**
 * RFC 8461 §4.1: a pattern is a host name or "*." plus a suffix; the wildcard stands for exactly
 * one leftmost label.
 */
export function mxMatches(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => {
    if (!p.startsWith('*.')) return h === p;
    const suffix = p.slice(1);
    if (!h.endsWith(suffix)) return false;
    const label = h.slice(0, h.length - suffix.length);
    return label.length > 0 && !label.includes('.');
  });
}
