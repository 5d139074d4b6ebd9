import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import type { SmtpTransaction } from '../../core/smtp/types.ts';
import { STAGE, tempfail } from '../../core/verdict.ts';
import { ClamdUnavailable, type ScanResult } from './clamd-client.ts';
import { ClamdSessionPool } from './clamd-session.ts';
import { ClamavConfig } from './config.ts';

/** The header that says what the scan found. It never names the scanner (no software names). */
export const SCAN_HEADER = 'X-Virus-Scan';
const CHECK = 'virus';
/**
 * Idle clamd sessions kept for the next messages, and how long one may wait: well below clamd's
 * IdleTimeout (30 s by default), so clamd rarely closes a session just as it is reused. Each
 * concurrent scan needs its own session: with 16 kept, 32 SMTP sessions opened (and closed) a
 * new connection for about one scan in eight (bench/protection, TIME-WAIT sockets counted); an
 * idle session costs clamd only a socket in its poll set.
 */
const MAX_IDLE_SESSIONS = 64;
const SESSION_IDLE_MS = 10_000;

/** Virus names come from clamd; keep replies and headers to one safe line. */
const safeName = (name: string) => name.replace(/[^\x21-\x7e]/g, '_').slice(0, 100);

/**
 * Scans every message (inbound and submitted) with clamd at the message stage, streaming it from
 * the spool over reused clamd sessions (IDSESSION). Infected: the `action` (554 5.7.1 by default). clamd down or too slow, or a message
 * too large to scan: tempfail or accept with a header saying it was not scanned.
 */
export default definePlugin({
  name: 'clamav',
  description: 'Scans every message with ClamAV (clamd over TCP or a unix socket) as a stream; infected mail is rejected or quarantined, unscanned mail tempfailed or marked.',
  config: ClamavConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const plugin = ctx.name;
    const target = { socket: cfg.socket, host: cfg.host, port: cfg.port };
    const pool = new ClamdSessionPool(target, { maxIdle: MAX_IDLE_SESSIONS, idleMs: SESSION_IDLE_MS });

    const unscanned = (tx: SmtpTransaction, why: 'scanner unavailable' | 'too large', policy: 'accept' | 'tempfail') => {
      tx.evidence.push({ plugin, check: CHECK, result: 'unscanned', reason: why });
      if (policy === 'tempfail') return tempfail(why === 'too large' ? withText(REPLY.tempLocal, 'Message could not be scanned, please try again later') : REPLY.tempLocal);
      tx.addHeader(SCAN_HEADER, `not scanned (${why})`);
      return undefined;
    };

    hooks.smtp.message.tap(async (tx, msg, t) => {
      // A header of this name from outside would claim a scan that did not happen here.
      tx.removeHeader(SCAN_HEADER);
      if (msg.size > cfg.maxScanBytes) {
        t.log.info({ event: 'clamav.too_large', size: msg.size, maxScanBytes: cfg.maxScanBytes }, 'message too large to scan');
        return unscanned(tx, 'too large', cfg.onOversize);
      }
      let r: ScanResult;
      try {
        r = await pool.scan(() => msg.stream(), { connectTimeoutMs: cfg.connectTimeoutMs, timeoutMs: cfg.scanTimeoutMs, signal: t.signal });
      } catch (err) {
        if (!(err instanceof ClamdUnavailable)) throw err;
        t.log.warn({ event: 'clamav.unavailable', error: err.message, onUnavailable: cfg.onUnavailable }, 'virus scanner unavailable');
        return unscanned(tx, 'scanner unavailable', cfg.onUnavailable);
      }
      if (r.kind === 'error') {
        t.log.warn({ event: 'clamav.scan_error', error: r.message }, 'virus scanner could not scan the message');
        return r.sizeLimit ? unscanned(tx, 'too large', cfg.onOversize) : unscanned(tx, 'scanner unavailable', cfg.onUnavailable);
      }
      if (r.kind === 'clean') {
        tx.evidence.push({ plugin, check: CHECK, result: 'clean' });
        if (cfg.headerOnClean) tx.addHeader(SCAN_HEADER, 'clean');
        return undefined;
      }
      const name = safeName(r.name);
      t.log.info({ event: 'clamav.infected', virus: name, action: cfg.action }, 'virus found');
      if (cfg.action !== 'reject' && cfg.action !== 'tempfail') tx.addHeader(SCAN_HEADER, `infected (${name})`);
      return applyAction(tx, cfg.action, { plugin, check: CHECK, result: 'infected', reason: name }, {
        reject: { code: 554, enhanced: '5.7.1', text: `Message contains a virus (${name})` },
        tempfail: { code: 451, enhanced: '4.7.1', text: `Message contains a virus (${name}), not accepted` },
      });
    }, { stage: STAGE.CHECK });
    return () => pool.close();
  },
});
