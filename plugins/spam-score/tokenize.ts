/**
 * Tokens for the Bayesian classifier: words of the subject and body text, a few header tokens
 * (sender domain, mailer-ish headers), and the host names of links. Lower case, 3–40 characters,
 * numbers folded, each token once per message (a word repeated a thousand times must not
 * outweigh the rest), at most `max` tokens.
 */
const WORD = /[\p{L}\p{N}][\p{L}\p{N}'$€£.-]*[\p{L}\p{N}$€£]|[\p{L}\p{N}]/gu;
const URL_HOST = /\bhttps?:\/\/([a-z0-9.-]+)/gi;

export interface TokenSource {
  readonly subject?: string;
  readonly from?: string;
  readonly text: string;
}

function words(s: string, prefix: string, out: Set<string>, max: number): void {
  for (const m of s.toLowerCase().matchAll(WORD)) {
    if (out.size >= max) return;
    let w = m[0];
    if (w.length < 3 || w.length > 40) continue;
    // 4-digit-and-longer numbers are noise for the classifier, but "a number was here" is not.
    if (/^\d[\d.,-]*$/.test(w)) w = w.length > 3 ? '#num' : w;
    out.add(prefix + w);
  }
}

export function tokenize(src: TokenSource, max = 1500): string[] {
  const out = new Set<string>();
  if (src.subject) words(src.subject, 'subject:', out, max);
  const dom = src.from?.match(/@([a-z0-9.-]+)/i)?.[1];
  if (dom) out.add(`from-domain:${dom.toLowerCase()}`);
  for (const m of src.text.matchAll(URL_HOST)) {
    if (out.size >= max) break;
    out.add(`url:${m[1].toLowerCase()}`);
  }
  words(src.text, '', out, max);
  return [...out];
}
