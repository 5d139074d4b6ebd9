/**
 * What every connector to an external content scanner (rspamd, SpamAssassin's spamd) does around
 * the scan itself, the same way: its own result headers from outside are dropped (they would claim
 * a scan that did not happen here), submitted mail may be skipped, a message over the size limit
 * is recorded as unscanned, and a scanner that is down fails open or tempfails per config.
 */
import type { Logger } from '../log.ts';
import { REPLY } from '../smtp/codes.ts';
import type { SmtpTransaction } from '../smtp/types.ts';
import { tempfail, type Tempfail } from '../verdict.ts';

export interface ScannerGate {
  /** Plugin name (evidence and log event prefix). */
  readonly plugin: string;
  /** The evidence check name. */
  readonly check: string;
  /** Headers this plugin writes: removed before the scan. */
  readonly ownHeaders: readonly string[];
  readonly maxSize: number;
  readonly authenticated: 'scan' | 'skip';
  readonly onUnavailable: 'accept' | 'tempfail';
}

/** Before the scan: false when this message is not to be scanned (the reason is recorded). */
export function shouldScan(g: ScannerGate, tx: SmtpTransaction, size: number, log: Logger): boolean {
  for (const h of g.ownHeaders) tx.removeHeader(h);
  if (tx.session.user && g.authenticated === 'skip') return false;
  if (size > g.maxSize) {
    log.info({ event: `${g.plugin}.too_large`, size, maxSize: g.maxSize }, 'message too large to scan');
    tx.evidence.push({ plugin: g.plugin, check: g.check, result: 'unscanned', reason: 'too large' });
    return false;
  }
  return true;
}

/** The scanner did not answer usefully: evidence "unavailable", then accept or 451 4.3.0 per config. */
export function scannerUnavailable(g: ScannerGate, tx: SmtpTransaction, reason: string, log: Logger): Tempfail | undefined {
  log.warn({ event: `${g.plugin}.unavailable`, error: reason, onUnavailable: g.onUnavailable }, `${g.plugin} unavailable`);
  tx.evidence.push({ plugin: g.plugin, check: g.check, result: 'unavailable', reason });
  return g.onUnavailable === 'tempfail' ? tempfail(REPLY.tempLocal) : undefined;
}
