/**
 * Identifier alignment (RFC 7489 §3.1) on top of mailauth's answer. mailauth 4.13 passes its
 * `strict` flag as an object, which is always truthy and then falls back to org-domain matching,
 * so it treats adkim=s / aspf=s as relaxed; strict mode is applied here: an exact domain match.
 */
export interface Alignment {
  readonly spf?: string;
  readonly dkim?: string;
}

/** The tags of a DMARC record (`v=DMARC1; p=reject; adkim=s`), keys lower-cased. */
export function recordTags(record: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of record.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim());
  }
  return tags;
}

const norm = (d: string) => d.toLowerCase().replace(/\.$/, '');

/**
 * `relaxed` is what mailauth found under relaxed rules (organizational domains match); strict
 * tags narrow it to identifiers equal to the From domain.
 */
export function applyStrict(fromDomain: string, tags: Map<string, string>, relaxed: Alignment, passing: { spf: readonly string[]; dkim: readonly string[] }): Alignment {
  const from = norm(fromDomain);
  const pick = (mode: string | undefined, found: string | undefined, ids: readonly string[]) => {
    if (mode?.toLowerCase() !== 's') return found;
    return ids.map(norm).find((d) => d === from);
  };
  const spf = pick(tags.get('aspf'), relaxed.spf, passing.spf);
  const dkim = pick(tags.get('adkim'), relaxed.dkim, passing.dkim);
  return { ...(spf ? { spf } : {}), ...(dkim ? { dkim } : {}) };
}
