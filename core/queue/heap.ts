/**
 * A binary min-heap of (time, id) pairs in two parallel arrays: no object per entry, so a million
 * waiting messages cost a Float64 and a string reference each. push and pop are O(log n).
 */
export class TimeHeap {
  #at = new Float64Array(1024);
  #ids: string[] = [];

  get size(): number {
    return this.#ids.length;
  }

  push(at: number, id: string): void {
    const n = this.#ids.length;
    if (n === this.#at.length) {
      const grown = new Float64Array(n * 2);
      grown.set(this.#at);
      this.#at = grown;
    }
    this.#ids.push(id);
    this.#at[n] = at;
    this.#up(n);
  }

  /** The earliest entry, or undefined when empty. */
  peek(): { at: number; id: string } | undefined {
    return this.#ids.length ? { at: this.#at[0], id: this.#ids[0] } : undefined;
  }

  peekAt(): number {
    return this.#ids.length ? this.#at[0] : Infinity;
  }

  pop(): { at: number; id: string } | undefined {
    const n = this.#ids.length;
    if (!n) return undefined;
    const top = { at: this.#at[0], id: this.#ids[0] };
    const lastId = this.#ids.pop()!;
    if (n > 1) {
      this.#ids[0] = lastId;
      this.#at[0] = this.#at[n - 1];
      this.#down(0);
    }
    return top;
  }

  /** Keep only the entries `keep` accepts (a linear rebuild: used to drop stale entries in bulk). */
  filter(keep: (at: number, id: string) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.#ids.length; r++) {
      if (!keep(this.#at[r], this.#ids[r])) continue;
      this.#at[w] = this.#at[r];
      this.#ids[w] = this.#ids[r];
      w++;
    }
    this.#ids.length = w;
    for (let i = (w >> 1) - 1; i >= 0; i--) this.#down(i);
    if (this.#at.length > 1024 && w < this.#at.length / 4) this.#at = this.#at.slice(0, Math.max(1024, w * 2));
  }

  #less(a: number, b: number): boolean {
    // Ties by id: ids sort by arrival time, so equal times go oldest first.
    return this.#at[a] < this.#at[b] || (this.#at[a] === this.#at[b] && this.#ids[a] < this.#ids[b]);
  }

  #swap(a: number, b: number): void {
    const t = this.#at[a];
    this.#at[a] = this.#at[b];
    this.#at[b] = t;
    const s = this.#ids[a];
    this.#ids[a] = this.#ids[b];
    this.#ids[b] = s;
  }

  #up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) return;
      this.#swap(i, p);
      i = p;
    }
  }

  #down(i: number): void {
    const n = this.#ids.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(l, m)) m = l;
      if (r < n && this.#less(r, m)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
