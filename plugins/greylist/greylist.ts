/**
 * Greylisting state over a KeyValueStore (RFC 6647 §2, §4.5). Knows nothing of hooks: it takes a
 * triplet and answers whether it passes. With Redis as the store, every node sees the same state,
 * so a sender refused by one MX passes on another after the delay.
 *
 * Keys (under the store's own prefix):
 *   greylist:first:<triplet>   first attempt time (ms), lives for the retry window
 *   greylist:pass:<triplet>    the triplet passed; lives for passExpiryMs, renewed on each pass
 *   greylist:passes:<network>  how many triplets of the network passed (auto-allow counter)
 *   greylist:net:<network>     the network is auto-allowed
 */
import type { Clock } from '../../core/clock.ts';
import type { KeyValueStore } from '../../core/kv/kv.ts';
import { tripletKey } from './triplet.ts';

export interface GreylistPolicy {
  readonly delayMs: number;
  readonly retryWindowMs: number;
  readonly passExpiryMs: number;
  readonly autoAllowAfter: number;
}

export type GreyResult =
  | { kind: 'greylisted'; retryInMs: number; first: boolean }
  | { kind: 'passed'; reason: 'retried' | 'known' }
  | { kind: 'allowed'; reason: 'auto-allowed network' };

export class Greylist {
  readonly #kv: KeyValueStore;
  readonly #clock: Clock;
  readonly #p: GreylistPolicy;

  constructor(kv: KeyValueStore, clock: Clock, policy: GreylistPolicy) {
    this.#kv = kv;
    this.#clock = clock;
    this.#p = policy;
  }

  /** Look the triplet up and move its state on. Rejects when the store fails. */
  async check(network: string, sender: string, recipient: string): Promise<GreyResult> {
    const p = this.#p;
    if (p.autoAllowAfter > 0 && (await this.#kv.get(`greylist:net:${network}`)) !== undefined) {
      return { kind: 'allowed', reason: 'auto-allowed network' };
    }
    const t = tripletKey(network, sender, recipient);
    if ((await this.#kv.get(`greylist:pass:${t}`)) !== undefined) {
      await this.#kv.set(`greylist:pass:${t}`, '1', { ttlMs: p.passExpiryMs });
      return { kind: 'passed', reason: 'known' };
    }
    const now = this.#clock.now();
    // Bounded: the first-seen key either is set by us or exists; one retry covers it expiring in between.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.#kv.set(`greylist:first:${t}`, String(now), { nx: true, ttlMs: p.retryWindowMs })) {
        return { kind: 'greylisted', retryInMs: p.delayMs, first: true };
      }
      const seen = await this.#kv.get(`greylist:first:${t}`);
      if (seen === undefined) continue;
      const waited = now - Number(seen);
      // RFC 6647 §4.5: a retry before the delay is refused again, without restarting the clock.
      if (!(waited >= p.delayMs)) return { kind: 'greylisted', retryInMs: p.delayMs - (Number.isFinite(waited) ? waited : 0), first: false };
      await this.#pass(t, network);
      return { kind: 'passed', reason: 'retried' };
    }
    return { kind: 'greylisted', retryInMs: p.delayMs, first: true };
  }

  async #pass(t: string, network: string): Promise<void> {
    const p = this.#p;
    await this.#kv.set(`greylist:pass:${t}`, '1', { ttlMs: p.passExpiryMs });
    await this.#kv.del(`greylist:first:${t}`);
    if (p.autoAllowAfter > 0) {
      const n = await this.#kv.incr(`greylist:passes:${network}`, 1, p.passExpiryMs);
      if (n >= p.autoAllowAfter) await this.#kv.set(`greylist:net:${network}`, '1', { ttlMs: p.passExpiryMs });
    }
  }
}
