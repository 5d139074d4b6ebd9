import { defineSlot } from '../../core/slots.ts';
import type { DkimOutcome } from './verify.ts';

/** Every DKIM signature's result; dmarc and arc read it. */
export const DKIM = defineSlot<DkimOutcome>('dkim-verify');
