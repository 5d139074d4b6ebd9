/**
 * A naive Bayesian spam classifier in the style of Robinson's "A Statistical Approach to the Spam
 * Problem" (2003): each token's spamminess f(w) is pulled towards 0.5 when it was seen rarely, the
 * most telling tokens are combined with Fisher's chi-square method, and the result is an
 * indicator in [0, 1] (0 ham, 1 spam). Pure: counts come in, a probability goes out.
 */
export interface TokenCount {
  readonly spam: number;
  readonly ham: number;
}

export interface Totals {
  readonly spam: number;
  readonly ham: number;
}

export interface BayesOptions {
  /** Strength of the prior (s in Robinson's paper). */
  readonly strength?: number;
  /** The prior probability for an unknown token (x). */
  readonly prior?: number;
  /** Only tokens whose f(w) is at least this far from 0.5 count. */
  readonly minDeviation?: number;
  /** At most this many tokens, the most telling ones, are combined. */
  readonly maxTokens?: number;
}

export function tokenProbability(c: TokenCount, t: Totals, strength = 0.45, prior = 0.5): number {
  const spamRatio = t.spam ? c.spam / t.spam : 0;
  const hamRatio = t.ham ? c.ham / t.ham : 0;
  const n = c.spam + c.ham;
  if (n === 0 || spamRatio + hamRatio === 0) return prior;
  const p = spamRatio / (spamRatio + hamRatio);
  return (strength * prior + n * p) / (strength + n);
}

/** The upper tail of the chi-square distribution with 2v degrees of freedom (Robinson's chi2Q). */
export function chi2Q(x2: number, v: number): number {
  const m = x2 / 2;
  let sum = Math.exp(-m);
  let term = sum;
  for (let i = 1; i < v; i++) {
    term *= m / i;
    sum += term;
  }
  return Math.min(sum, 1);
}

export interface Classification {
  /** 0 = ham … 1 = spam. */
  readonly probability: number;
  /** How many tokens decided it. */
  readonly used: number;
}

export function classify(counts: ReadonlyMap<string, TokenCount>, totals: Totals, opts: BayesOptions = {}): Classification {
  const strength = opts.strength ?? 0.45;
  const prior = opts.prior ?? 0.5;
  const minDev = opts.minDeviation ?? 0.1;
  const maxTokens = opts.maxTokens ?? 150;
  const probs: number[] = [];
  for (const c of counts.values()) {
    const f = tokenProbability(c, totals, strength, prior);
    if (Math.abs(f - 0.5) >= minDev) probs.push(f);
  }
  probs.sort((a, b) => Math.abs(b - 0.5) - Math.abs(a - 0.5));
  const used = probs.slice(0, maxTokens);
  if (!used.length) return { probability: 0.5, used: 0 };
  let lnSpam = 0;
  let lnHam = 0;
  for (const f of used) {
    lnSpam += Math.log(Math.max(1 - f, 1e-200));
    lnHam += Math.log(Math.max(f, 1e-200));
  }
  const n = used.length;
  const s = 1 - chi2Q(-2 * lnSpam, n); // evidence of spamminess
  const h = 1 - chi2Q(-2 * lnHam, n); // evidence of hamminess
  return { probability: (1 + s - h) / 2, used: n };
}
