/**
 * From symbols (evidence of other checks, rule hits, the Bayes verdict) to one score and one
 * outcome. Pure. Thresholds follow SpamAssassin's habit: a message at or above `tag` is marked
 * spam in its headers, at or above `quarantine` goes to Junk, at or above `reject` is refused.
 */
export interface SymbolScore {
  readonly name: string;
  readonly score: number;
}

export interface Thresholds {
  readonly tag: number;
  readonly quarantine: number;
  readonly reject: number;
}

export type Outcome = 'ham' | 'tag' | 'quarantine' | 'reject';

export interface Decision {
  readonly score: number;
  readonly outcome: Outcome;
  readonly symbols: readonly SymbolScore[];
}

export function decide(symbols: readonly SymbolScore[], t: Thresholds): Decision {
  const score = Math.round(symbols.reduce((a, s) => a + s.score, 0) * 100) / 100;
  const outcome: Outcome = score >= t.reject ? 'reject' : score >= t.quarantine ? 'quarantine' : score >= t.tag ? 'tag' : 'ham';
  return { score, outcome, symbols: [...symbols].sort((a, b) => b.score - a.score || a.name.localeCompare(b.name)) };
}

/** Evidence `plugin/check` → a symbol name: `DNSBL_ZEN_SPAMHAUS_ORG`. */
export function symbolName(plugin: string, check: string, result: string): string {
  return `${plugin}_${check}_${result}`.toUpperCase().replace(/[^A-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60);
}

/** X-Spam-Status: "Yes, score=7.3 required=5.0 tests=BAYES_SPAM(3.5),DNSBL_ZEN(4.0)" (folded by the caller's header writer). */
export function statusHeader(d: Decision, t: Thresholds): string {
  const tests = d.symbols.map((s) => `${s.name}(${s.score.toFixed(1)})`).join(',');
  return `${d.outcome === 'ham' ? 'No' : 'Yes'}, score=${d.score.toFixed(1)} required=${t.tag.toFixed(1)} tests=${tests || 'none'}`;
}

/** Fold a long header value at commas (RFC 5322 §2.2.3), lines under 78 characters where possible. */
export function fold(value: string, nameLength: number): string {
  const parts = value.split(',');
  let line = nameLength + 2;
  let out = '';
  parts.forEach((p, i) => {
    const piece = (i ? ',' : '') + p;
    if (i && line + piece.length > 76) {
      out += ',\r\n\t' + p;
      line = 8 + p.length;
    } else {
      out += piece;
      line += piece.length;
    }
  });
  return out;
}
