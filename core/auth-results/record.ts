/**
 * Where the authentication plugins (spf, dkim-verify, arc, dmarc) put their results for the one
 * Authentication-Results field: a typed slot on the transaction, appended to in run order.
 */
import { defineSlot } from '../slots.ts';
import type { SlotStore } from '../slots.ts';
import type { ResInfo } from './format.ts';

export const AUTH_RESULTS = defineSlot<ResInfo[]>('auth-results');

/** Add one method result (a message may have several dkim results). */
export function recordAuthResult(into: { readonly slots: SlotStore }, r: ResInfo): void {
  const list = into.slots.get(AUTH_RESULTS);
  if (list) list.push(r);
  else into.slots.set(AUTH_RESULTS, [r]);
}

export function authResults(from: { readonly slots: SlotStore }): readonly ResInfo[] {
  return from.slots.get(AUTH_RESULTS) ?? [];
}
