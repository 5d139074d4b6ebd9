/**
 * One message's score: the evidence other checks recorded, this plugin's rules, and the Bayes
 * classifier. Knows nothing of hooks.
 */
import type { Evidence } from '../../core/smtp/types.ts';
import { classify } from './bayes.ts';
import type { SpamScoreConfig } from './config.ts';
import { decide, symbolName, type Decision, type SymbolScore } from './decide.ts';
import type { MessageFacts, RuleSet } from './rules.ts';
import type { TokenStore } from './token-store.ts';
import { tokenize } from './tokenize.ts';

export function tokensOf(facts: MessageFacts, max: number): string[] {
  return tokenize({ subject: facts.headers.get('subject')?.[0], from: facts.headers.get('from')?.[0], text: facts.text }, max);
}

export function evidenceSymbols(evidence: readonly Evidence[], overrides: Readonly<Record<string, number>>, self: string): SymbolScore[] {
  const out: SymbolScore[] = [];
  for (const e of evidence) {
    if (e.plugin === self) continue;
    const score = overrides[`${e.plugin}/${e.check}/${e.result}`] ?? overrides[`${e.plugin}/${e.check}`] ?? e.score;
    if (score === undefined || score === 0) continue;
    out.push({ name: symbolName(e.plugin, e.check, e.result), score });
  }
  return out;
}

/** `tokens` is called only when the classifier is on and has learned enough to score. */
export async function bayesSymbol(store: TokenStore, tokens: () => readonly string[], cfg: SpamScoreConfig['bayes']): Promise<SymbolScore | undefined> {
  if (!cfg.enabled) return undefined;
  const totals = await store.totals();
  if (totals.spam < cfg.minLearned || totals.ham < cfg.minLearned) return undefined;
  const { probability, used } = classify(await store.counts(tokens()), totals);
  if (used === 0) return undefined;
  const pct = Math.round(probability * 100);
  if (probability >= 0.9) return { name: `BAYES_${pct}`, score: cfg.spamScore };
  if (probability >= 0.75) return { name: `BAYES_${pct}`, score: cfg.spamScore / 2 };
  if (probability <= 0.1) return { name: `BAYES_${String(pct).padStart(2, '0')}`, score: cfg.hamScore };
  if (probability <= 0.25) return { name: `BAYES_${String(pct).padStart(2, '0')}`, score: cfg.hamScore / 2 };
  return undefined;
}

export async function score(
  facts: MessageFacts,
  evidence: readonly Evidence[],
  rules: RuleSet,
  store: TokenStore,
  cfg: SpamScoreConfig,
  self: string,
): Promise<Decision> {
  const symbols: SymbolScore[] = [...evidenceSymbols(evidence, cfg.evidenceScores, self), ...rules.evaluate(facts)];
  const b = await bayesSymbol(store, () => tokensOf(facts, cfg.bayes.maxTokens), cfg.bayes);
  if (b) symbols.push(b);
  return decide(symbols, cfg.thresholds);
}
