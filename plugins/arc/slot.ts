import { defineSlot } from '../../core/slots.ts';
import type { ArcOutcome } from './verify.ts';

/** The arriving ARC chain's validation; dmarc may read it (local policy overrides, RFC 7489 §7). */
export const ARC = defineSlot<ArcOutcome>('arc');
