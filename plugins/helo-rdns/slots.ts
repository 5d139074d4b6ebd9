import { defineSlot } from '../../core/slots.ts';
import type { FcrdnsResult } from './fcrdns.ts';

/** Set on the session once the client's reverse DNS is checked; spam-score and others may read it. */
export const FCRDNS_SLOT = defineSlot<FcrdnsResult>('helo-rdns.fcrdns');
