import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { scannerUnavailable, shouldScan, type ScannerGate } from '../../core/policy/external-scanner.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import { reject, STAGE } from '../../core/verdict.ts';
import { SpamassassinConfig } from './config.ts';
import { decide, statusHeader } from './decide.ts';
import { SpamdUnavailable, symbols, type SpamdResult } from './spamd-client.ts';

const CHECK = 'spam';
const FLAG_HEADER = 'X-Spam-Flag';

/**
 * Asks a site's spamd about every message at the message stage (SYMBOLS, streamed from the spool),
 * records its score as evidence (spam-score adds it), and applies `action` when spamd says spam
 * (`rejectScore` refuses outright above a higher score). spamd down, slow or unintelligible: fail
 * open with evidence "unavailable" (default) or 451 4.3.0.
 */
export default definePlugin({
  name: 'spamassassin',
  description: 'Asks a running SpamAssassin spamd (SPAMC protocol, TCP or unix socket) about every message; records its score as evidence and tags, quarantines or refuses spam.',
  config: SpamassassinConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const plugin = ctx.name;
    const target = { socket: cfg.socket, host: cfg.host, port: cfg.port };

    const gate: ScannerGate = {
      plugin, check: CHECK, ownHeaders: cfg.flagHeader ? [cfg.header, FLAG_HEADER] : [cfg.header],
      maxSize: cfg.maxSize, authenticated: cfg.authenticated, onUnavailable: cfg.onUnavailable,
    };

    hooks.smtp.message.tap(async (tx, msg, t) => {
      if (!shouldScan(gate, tx, msg.size, t.log)) return undefined;
      let r: SpamdResult;
      try {
        r = await symbols(target, msg.stream(), msg.size, { connectTimeoutMs: cfg.connectTimeoutMs, timeoutMs: cfg.scanTimeoutMs, user: cfg.user, signal: t.signal });
      } catch (err) {
        if (!(err instanceof SpamdUnavailable)) throw err;
        return scannerUnavailable(gate, tx, err.message, t.log);
      }
      const d = decide(r, cfg);
      const finding = {
        plugin,
        check: CHECK,
        result: d.spam ? 'spam' : 'ham',
        score: Math.round(d.score * cfg.scoreFactor * 100) / 100,
        ...(d.symbols.length ? { reason: d.symbols.slice(0, 20).join(' ') } : {}),
      };
      t.log.info({ event: 'spamassassin.scanned', spam: d.spam, score: d.score, required: d.required, action: d.hardReject ? 'reject' : d.spam ? cfg.action : 'none' }, 'spamd verdict');
      const refused = withText(REPLY.policy, `Message refused as spam (score ${d.score.toFixed(1)})`);
      if (d.hardReject) {
        tx.evidence.push(finding);
        return reject(refused);
      }
      const addHeaders = () => {
        tx.addHeader(cfg.header, statusHeader(d));
        if (cfg.flagHeader && d.spam) tx.addHeader(FLAG_HEADER, 'YES');
      };
      if (!d.spam) {
        tx.evidence.push(finding);
        addHeaders();
        return undefined;
      }
      // tag is this plugin's own headers: the core's generic X-Policy-Check line would carry the
      // plugin name, which names the scanner software (no software names in headers).
      if (cfg.action === 'tag') {
        tx.evidence.push(finding);
        addHeaders();
        return undefined;
      }
      const verdict = applyAction(tx, cfg.action, finding, {
        reject: refused,
        tempfail: withText(REPLY.policyTemp, 'Message deferred by the spam filter, please try again later'),
      });
      if (!verdict) addHeaders();
      return verdict;
    }, { stage: STAGE.CHECK });
  },
});
