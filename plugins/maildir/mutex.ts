/** Runs async critical sections one at a time, in call order (one per folder, owned by its state). */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();
  private pending = 0;

  run<T>(fn: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.tail.then(fn);
    this.tail = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  get idle(): boolean {
    return this.pending === 0;
  }
}
