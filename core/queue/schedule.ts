import { TimeHeap } from './heap.ts';

/**
 * When each queued message is next due: one entry per message (its earliest pending recipient),
 * found in O(log n). Rescheduling leaves the old heap entry behind as stale (it no longer matches
 * the map) instead of searching for it; stale entries are skipped when they surface and swept
 * when they outnumber the live ones.
 */
export class Schedule {
  readonly #heap = new TimeHeap();
  readonly #due = new Map<string, number>();

  get size(): number {
    return this.#due.size;
  }

  has(id: string): boolean {
    return this.#due.has(id);
  }

  at(id: string): number | undefined {
    return this.#due.get(id);
  }

  set(id: string, at: number): void {
    if (this.#due.get(id) === at) return;
    this.#due.set(id, at);
    this.#heap.push(at, id);
    if (this.#heap.size > 2 * this.#due.size + 1024) this.#heap.filter((t, i) => this.#due.get(i) === t);
  }

  /** Every scheduled id (a snapshot: safe to reschedule while iterating). */
  ids(): string[] {
    return [...this.#due.keys()];
  }

  delete(id: string): void {
    this.#due.delete(id);
  }

  /** When the earliest message is due (Infinity when none). */
  nextAt(): number {
    this.#dropStale();
    return this.#heap.peekAt();
  }

  /** The earliest message due at or before `now`, removed from the schedule. */
  popDue(now: number): string | undefined {
    this.#dropStale();
    const top = this.#heap.peek();
    if (!top || top.at > now) return undefined;
    this.#heap.pop();
    this.#due.delete(top.id);
    return top.id;
  }

  clear(): void {
    this.#due.clear();
    this.#heap.filter(() => false);
  }

  #dropStale(): void {
    for (let top = this.#heap.peek(); top && this.#due.get(top.id) !== top.at; top = this.#heap.peek()) this.#heap.pop();
  }
}
