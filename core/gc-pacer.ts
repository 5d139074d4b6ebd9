import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (opts?: { type?: 'major' | 'minor' }) => void;

/**
 * Streaming a large message allocates a fresh Buffer per socket read (and smtp-server copies
 * each chunk once more). They die young, but V8 only collects them when its external-memory
 * heuristics say so, which let a 50 MB message raise RSS by ~35 MB of garbage. A cheap minor
 * (scavenge) collection every `everyBytes` of streamed data keeps that near 20 MB.
 */
export class GcPacer {
  #count = 0;
  readonly #gc: Gc | undefined;

  constructor(private readonly everyBytes = 8 * 1024 * 1024) {
    this.#gc = GcPacer.#obtain();
  }

  static #obtain(): Gc | undefined {
    const existing = (globalThis as { gc?: Gc }).gc;
    if (existing) return existing;
    try {
      v8.setFlagsFromString('--expose-gc');
      return vm.runInNewContext('gc') as Gc;
    } catch {
      return undefined;
    }
  }

  /** Count streamed bytes; collect young garbage each time another `everyBytes` went by. */
  note(bytes: number): void {
    const before = this.#count;
    this.#count += bytes;
    if (this.#gc && Math.floor(before / this.everyBytes) !== Math.floor(this.#count / this.everyBytes)) this.#gc({ type: 'minor' });
  }
}
