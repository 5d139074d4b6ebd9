import { defineService } from './services.ts';

/**
 * Which domains are local: provided by the local-domains plugin, read by others (aliases,
 * outbound routing) so that every plugin agrees on one answer.
 */
export interface LocalDomains {
  /** The local domains, lower-case (IDNA ASCII form). */
  list(): Promise<string[]>;
}

export const LOCAL_DOMAINS = defineService<LocalDomains>('localDomains');
