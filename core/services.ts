/**
 * A typed service registry: a plugin provides a service (the mail store, the user directory)
 * under a key; the core and other plugins look it up by the same key and get its type.
 */
export interface ServiceKey<T> {
  readonly name: string;
  readonly __type?: T;
}

export function defineService<T>(name: string): ServiceKey<T> {
  return Object.freeze({ name });
}

export class ServiceRegistry {
  readonly #services = new Map<string, { provider: string; value: unknown }>();

  provide<T>(key: ServiceKey<T>, value: T, provider: string): void {
    const existing = this.#services.get(key.name);
    if (existing) {
      throw new Error(`service "${key.name}" is already provided by plugin "${existing.provider}" (plugin "${provider}" tried again)`);
    }
    this.#services.set(key.name, { provider, value });
  }

  /** The service, or undefined when no enabled plugin provides it. */
  find<T>(key: ServiceKey<T>): T | undefined {
    return this.#services.get(key.name)?.value as T | undefined;
  }

  get<T>(key: ServiceKey<T>): T {
    const s = this.#services.get(key.name);
    if (!s) throw new Error(`no enabled plugin provides the service "${key.name}"`);
    return s.value as T;
  }

  providerOf(key: ServiceKey<unknown>): string | undefined {
    return this.#services.get(key.name)?.provider;
  }

  withdrawAll(provider: string): void {
    for (const [name, s] of this.#services) if (s.provider === provider) this.#services.delete(name);
  }

  list(): Array<{ name: string; provider: string }> {
    return [...this.#services].map(([name, s]) => ({ name, provider: s.provider }));
  }
}
