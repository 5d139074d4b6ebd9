/**
 * Typed slots: how plugins hand data to each other on a session or transaction without untyped
 * `notes` bags. A plugin exports its slot; readers import it and get the type with it.
 *
 *   export const SPF = defineSlot<SpfResult>('spf');
 *   tx.slots.set(SPF, result);      // in the spf plugin
 *   tx.slots.get(SPF)?.result;      // in spam-score
 */
export interface Slot<T> {
  readonly name: string;
  /** Phantom field carrying the type; never set. */
  readonly __type?: T;
}

export function defineSlot<T>(name: string): Slot<T> {
  return Object.freeze({ name });
}

export class SlotStore {
  readonly #values = new Map<Slot<unknown>, unknown>();

  set<T>(slot: Slot<T>, value: T): void {
    this.#values.set(slot, value);
  }

  get<T>(slot: Slot<T>): T | undefined {
    return this.#values.get(slot) as T | undefined;
  }

  has(slot: Slot<unknown>): boolean {
    return this.#values.has(slot);
  }

  /** Names and values, for logs and `explain` output. */
  entries(): Array<[string, unknown]> {
    return [...this.#values].map(([k, v]) => [k.name, v]);
  }
}
