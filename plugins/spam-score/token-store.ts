/**
 * Bayes token counts in the kv service (memory by default, Redis when configured, so several
 * servers learn together). One counter per token and class; the totals count learned messages.
 * What each message was learned as is remembered (by a digest), so learning the same message
 * twice is a no-op and re-learning it as the other class moves its counts (a user who drags a
 * message out of Junk undoes the earlier "spam" verdict instead of adding noise).
 */
import type { KeyValueStore } from '../../core/kv/kv.ts';
import type { TokenCount, Totals } from './bayes.ts';

export type Label = 'spam' | 'ham';

export class TokenStore {
  constructor(
    private readonly kv: KeyValueStore,
    private readonly prefix = 'spam-score:bayes:',
  ) {}

  #key(label: Label, token: string): string {
    return `${this.prefix}${label === 'spam' ? 's' : 'h'}:${token}`;
  }

  async totals(): Promise<Totals> {
    const [s, h] = await Promise.all([this.kv.get(`${this.prefix}nspam`), this.kv.get(`${this.prefix}nham`)]);
    return { spam: Number(s ?? 0) || 0, ham: Number(h ?? 0) || 0 };
  }

  async counts(tokens: readonly string[]): Promise<Map<string, TokenCount>> {
    // One call for all of them (one MGET on Redis), spam keys then ham keys.
    const values = await this.kv.getMany([...tokens.map((t) => this.#key('spam', t)), ...tokens.map((t) => this.#key('ham', t))]);
    const out = new Map<string, TokenCount>();
    tokens.forEach((t, i) => {
      const spam = Math.max(0, Number(values[i] ?? 0) || 0);
      const ham = Math.max(0, Number(values[tokens.length + i] ?? 0) || 0);
      if (spam || ham) out.set(t, { spam, ham });
    });
    return out;
  }

  /** What a message (by digest) was learned as, if anything. */
  async labelOf(digest: string): Promise<Label | undefined> {
    const v = await this.kv.get(`${this.prefix}learned:${digest}`);
    return v === 'spam' || v === 'ham' ? v : undefined;
  }

  /**
   * Learn a message's tokens as `label`. Returns what happened: 'learned', 'relearned' (it was
   * learned as the other class before; those counts were taken back) or 'known' (no change).
   */
  async learn(digest: string, tokens: readonly string[], label: Label): Promise<'learned' | 'relearned' | 'known'> {
    const markKey = `${this.prefix}learned:${digest}`;
    const before = await this.kv.get(markKey);
    if (before === label) return 'known';
    if (before === 'spam' || before === 'ham') await this.#add(tokens, before, -1);
    await this.#add(tokens, label, 1);
    await this.kv.set(markKey, label);
    return before ? 'relearned' : 'learned';
  }

  async #add(tokens: readonly string[], label: Label, by: 1 | -1): Promise<void> {
    await Promise.all(tokens.map((t) => this.kv.incr(this.#key(label, t), by)));
    await this.kv.incr(`${this.prefix}n${label}`, by);
  }
}
