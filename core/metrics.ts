/** Counters and timing sums, owned by the server instance. Labels are folded into the key. */
export class Metrics {
  readonly #counters = new Map<string, number>();

  static key(name: string, labels?: Record<string, string>): string {
    if (!labels) return name;
    const parts = Object.keys(labels).sort().map((k) => `${k}="${labels[k]}"`);
    return `${name}{${parts.join(',')}}`;
  }

  inc(name: string, labels?: Record<string, string>, by = 1): void {
    const k = Metrics.key(name, labels);
    this.#counters.set(k, (this.#counters.get(k) ?? 0) + by);
  }

  get(name: string, labels?: Record<string, string>): number {
    return this.#counters.get(Metrics.key(name, labels)) ?? 0;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counters].sort(([a], [b]) => a.localeCompare(b)));
  }

  /** Prometheus text exposition. */
  render(): string {
    return [...this.#counters].map(([k, v]) => `pochta_${k} ${v}`).join('\n') + '\n';
  }
}
