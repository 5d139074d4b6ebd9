/** From spamd's verdict to spam or not, refuse or not, and the status header. Pure. */
import type { SpamassassinConfig } from './config.ts';
import type { SpamdResult } from './spamd-client.ts';

export interface Decision {
  readonly spam: boolean;
  /** The score reached rejectScore: refuse whatever the action says. */
  readonly hardReject: boolean;
  readonly score: number;
  readonly required: number;
  readonly symbols: readonly string[];
}

export function decide(r: SpamdResult, cfg: Pick<SpamassassinConfig, 'spamScore' | 'rejectScore'>): Decision {
  const required = cfg.spamScore ?? r.required;
  return {
    spam: cfg.spamScore === undefined ? r.spam : r.score >= cfg.spamScore,
    hardReject: cfg.rejectScore !== undefined && r.score >= cfg.rejectScore,
    score: r.score,
    required,
    symbols: r.symbols,
  };
}

/** SpamAssassin's own X-Spam-Status form: "Yes, score=15.2 required=5.0 tests=GTUBE,NO_RECEIVED". */
export function statusHeader(d: Decision): string {
  const tests = d.symbols.slice(0, 40).join(',');
  return `${d.spam ? 'Yes' : 'No'}, score=${d.score.toFixed(1)} required=${d.required.toFixed(1)} tests=${tests || 'none'}`;
}
