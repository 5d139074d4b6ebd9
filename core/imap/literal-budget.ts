/**
 * Memory for literals being received, shared by every session of a service: each session is
 * bounded by `maxLiteralSize`, and this bounds them together (1000 clients each starting a 25 MB
 * APPEND must not mean 25 GB held). A literal that does not fit gets NO [UNAVAILABLE], try later.
 */
export class LiteralBudget {
  readonly total: number;
  #used = 0;

  constructor(total: number) {
    this.total = total;
  }

  get used(): number {
    return this.#used;
  }

  reserve(bytes: number): boolean {
    if (this.#used + bytes > this.total) return false;
    this.#used += bytes;
    return true;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
  }
}
