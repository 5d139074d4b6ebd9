import { defineSlot } from '../../core/slots.ts';

/** Set on the session when the client is on an allow list (DNSWL). Greylist and spam-score skip such clients. */
export interface DnswlListing {
  readonly zone: string;
  readonly codes: readonly string[];
}
export const DNSWL_SLOT = defineSlot<DnswlListing>('dnsbl.allowlisted');

/** Set on the session: the block lists the client is on (empty when none), for other plugins to read. */
export interface DnsblListing {
  readonly zone: string;
  readonly codes: readonly string[];
  readonly score: number;
  readonly action: 'reject' | 'tempfail' | 'quarantine' | 'tag' | 'ignore';
}
export const DNSBL_SLOT = defineSlot<readonly DnsblListing[]>('dnsbl.listed');
