import { defineSlot } from '../../core/slots.ts';
import type { DmarcOutcome, DmarcPolicy } from './evaluate.ts';

/** The DMARC outcome and the policy applied (after pct). */
export const DMARC = defineSlot<DmarcOutcome & { readonly applied?: DmarcPolicy }>('dmarc');
