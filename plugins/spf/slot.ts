import { defineSlot } from '../../core/slots.ts';
import type { SpfOutcome } from './check.ts';

/** The SPF outcome of the transaction; dmarc reads it, scoring plugins may. */
export const SPF = defineSlot<SpfOutcome>('spf');
