import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import { scannerUnavailable, shouldScan, type ScannerGate } from '../../core/policy/external-scanner.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import type { SmtpTransaction } from '../../core/smtp/types.ts';
import { STAGE } from '../../core/verdict.ts';
import { check, RspamdUnavailable, type RspamdReply } from './client.ts';
import { RspamdConfig } from './config.ts';
import { decide, milterEdits, resultHeader, smtpMessage } from './decide.ts';

const CHECK = 'spam';
const FLAG_HEADER = 'X-Spam-Flag';

/**
 * Asks a site's rspamd about every message at the message stage (streamed from the spool to its
 * /checkv2), records its verdict and score as evidence (spam-score adds it), and acts on rspamd's
 * own action per config: reject → 550 5.7.1, soft reject/greylist → 451 4.7.1, add header /
 * rewrite subject → tag. rspamd down, slow or unintelligible: fail open (evidence "unavailable")
 * or 451 4.3.0.
 */
export default definePlugin({
  name: 'rspamd',
  description: 'Asks a running rspamd (HTTP /checkv2) about every message; records its score as evidence and acts on its action (reject, soft reject, greylist, add header, rewrite subject).',
  config: RspamdConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const plugin = ctx.name;
    const target = { socket: cfg.socket, host: cfg.host, port: cfg.port };

    const gate: ScannerGate = {
      plugin, check: CHECK, ownHeaders: cfg.flagHeader ? [cfg.header, FLAG_HEADER] : [cfg.header],
      maxSize: cfg.maxSize, authenticated: cfg.authenticated, onUnavailable: cfg.onUnavailable,
    };

    const headers = (tx: SmtpTransaction, reply: RspamdReply, d: ReturnType<typeof decide>) => {
      tx.addHeader(cfg.header, resultHeader(d));
      if (cfg.flagHeader && d.spam) tx.addHeader(FLAG_HEADER, 'YES');
      if (cfg.rewriteSubject && d.rspamdAction === 'rewrite subject' && reply.subject) {
        tx.removeHeader('Subject');
        tx.addHeader('Subject', reply.subject.replace(/[\r\n]+/g, ' ').slice(0, 900));
      }
      if (cfg.milterHeaders) {
        const m = milterEdits(reply);
        for (const name of m.remove) tx.removeHeader(name);
        for (const h of m.add) tx.addHeader(h.name, h.value);
      }
    };

    hooks.smtp.message.tap(async (tx, msg, t) => {
      if (!shouldScan(gate, tx, msg.size, t.log)) return undefined;
      const user = tx.session.user;
      let reply: RspamdReply;
      try {
        reply = await check(target, msg.stream(), msg.size, {
          ip: tx.session.remoteAddress,
          helo: tx.session.helo?.host,
          hostname: tx.session.clientHostname,
          from: tx.mailFrom.address,
          rcpt: tx.rcptTo.map((r) => r.address),
          queueId: tx.id,
          user,
          password: cfg.password,
          settingsId: cfg.settingsId,
          tls: tx.session.tls,
        }, { connectTimeoutMs: cfg.connectTimeoutMs, timeoutMs: cfg.scanTimeoutMs, signal: t.signal });
      } catch (err) {
        if (!(err instanceof RspamdUnavailable)) throw err;
        return scannerUnavailable(gate, tx, err.message, t.log);
      }
      const d = decide(reply, cfg);
      const finding = {
        plugin,
        check: CHECK,
        result: d.result,
        score: Math.round(d.score * cfg.scoreFactor * 100) / 100,
        ...(d.symbols.length ? { reason: d.symbols.slice(0, 10).join(' ') } : {}),
      };
      t.log.info({ event: 'rspamd.scanned', rspamdAction: d.rspamdAction, score: d.score, action: d.action ?? 'none' }, 'rspamd verdict');
      if (!d.action) {
        tx.evidence.push(finding);
        headers(tx, reply, d);
        return undefined;
      }
      // tag is this plugin's own headers: the core's generic X-Policy-Check line would carry the
      // plugin name, which names the scanner software (no software names in headers).
      if (d.action === 'tag') {
        tx.evidence.push(finding);
        headers(tx, reply, d);
        return undefined;
      }
      const said = smtpMessage(reply);
      const verdict = applyAction(tx, d.action, finding, {
        reject: withText(REPLY.policy, said ? `Message refused as spam: ${said}` : `Message refused as spam (score ${d.score.toFixed(1)})`),
        tempfail: withText(REPLY.policyTemp, said ? `Message deferred: ${said}` : 'Message deferred by the spam filter, please try again later'),
      });
      if (!verdict) headers(tx, reply, d);
      return verdict;
    }, { stage: STAGE.CHECK });
  },
});
