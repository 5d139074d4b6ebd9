import { applyAction } from '../../core/policy/action.ts';
import { createLocalNetworks } from '../../core/dns/local-address.ts';
import { definePlugin } from '../../core/plugin.ts';
import type { SmtpSession } from '../../core/smtp/types.ts';
import { reject, STAGE, tempfail, type Reject, type Tempfail } from '../../core/verdict.ts';
import { registerDnsblCli } from './cli.ts';
import { compileRanges } from './codes.ts';
import { DnsblConfig } from './config.ts';
import { queryZones, type ZoneResult } from './lookup.ts';
import { finding, isRefusal, toListings } from './listings.ts';
import { DNSBL_SLOT, DNSWL_SLOT } from './slots.ts';
import { isPostmaster, replies } from './replies.ts';

export { DNSBL_SLOT, DNSWL_SLOT } from './slots.ts';

/**
 * Block and allow lists (RFC 5782) at connect, all zones in parallel within one budget. Findings
 * are evidence; a reject/tempfail answers at connect or at RCPT (config `rejectAt`).
 */
export default definePlugin({
  name: 'dnsbl',
  description: 'Check clients against DNS block and allow lists (RFC 5782); reject at connect or RCPT, or record evidence.',
  config: DnsblConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const errorCodes = compileRanges(cfg.errorCodes);
    const blocks = cfg.zones.map((z) => ({ ...z, returnCodes: compileRanges(z.returnCodes) }));
    const allows = cfg.allowZones.map((z) => ({ ...z, returnCodes: compileRanges(z.returnCodes) }));
    const isLocal = createLocalNetworks();
    if (!blocks.length && !allows.length) ctx.log.warn({ event: 'dnsbl.no_zones' }, 'dnsbl is enabled but no zones are configured');

    const unusable = (session: SmtpSession, r: ZoneResult) => {
      // A refusing or silent list is not obeyed: it says nothing about the client.
      session.log.warn({ event: 'dnsbl.zone_unusable', zone: r.zone, status: r.status, codes: r.codes, detail: r.detail },
        `DNS list ${r.zone} ${r.status === 'refused' ? `refused the query (${r.codes.join(', ')})` : r.status === 'timeout' ? 'did not answer in time' : `failed (${r.detail ?? 'error'})`}; ignored`);
    };

    hooks.smtp.connect.tap(async (session, _p, t) => {
      if (!cfg.listeners.includes(session.listener.kind)) return undefined;
      if (!cfg.checkPrivate && isLocal(session.remoteAddress)) return undefined;
      // Trusted networks (relay-acl, which runs at STAGE.FIRST) are our own hosts.
      if (session.relay.allowed) return undefined;
      const ip = session.remoteAddress;
      const [allowResults, blockResults] = await Promise.all([
        queryZones(ctx.dns, ip, allows, errorCodes, cfg.budgetMs),
        queryZones(ctx.dns, ip, blocks, errorCodes, cfg.budgetMs),
      ]);
      for (const r of [...allowResults, ...blockResults]) {
        ctx.metrics.inc('dnsbl_lookups_total', { zone: r.zone, result: r.status });
        if (r.status === 'refused' || r.status === 'timeout' || r.status === 'error') unusable(session, r);
      }

      const allowed = allowResults.find((r) => r.status === 'listed');
      if (allowed) {
        session.slots.set(DNSWL_SLOT, { zone: allowed.zone, codes: allowed.codes });
        session.evidence.push({ plugin: 'dnsbl', check: allowed.zone, result: 'allowlisted', reason: allowed.codes.join(',') });
        t.log.info({ event: 'dnsbl.allowlisted', zone: allowed.zone, codes: allowed.codes }, `client allow-listed at ${allowed.zone}`);
        session.slots.set(DNSBL_SLOT, []);
        return undefined;
      }

      const listed = toListings(blocks, blockResults);
      session.slots.set(DNSBL_SLOT, listed);
      if (!listed.length) return undefined;
      t.log.info({ event: 'dnsbl.listed', zones: listed.map((l) => l.zone) }, `client listed at ${listed.map((l) => l.zone).join(', ')}`);

      let verdict: Reject | Tempfail | undefined;
      for (const l of listed) {
        // Refusals wait for RCPT unless configured for connect; everything else is evidence now.
        if (isRefusal(l) && cfg.rejectAt === 'rcpt') continue;
        const v = applyAction(session, l.action, finding(l), replies('connect', ip, l.zone));
        verdict ??= v;
      }
      // RFC 5321 §3.1: a refusing server answers the greeting with 554 (or 421) and closes.
      return verdict ? { ...verdict, disconnect: true } : undefined;
    }, { stage: STAGE.ALLOW });

    if (cfg.rejectAt === 'rcpt') {
      // Before the taps that accept recipients (local-domains, aliases run at STAGE.CHECK).
      hooks.smtp.rcptTo.tap((tx, rcpt, t) => {
        const listed = tx.session.slots.get(DNSBL_SLOT);
        const first = listed?.find(isRefusal);
        if (!first || !listed) return undefined;
        if (tx.session.user || tx.session.relay.allowed) return undefined;
        // RFC 5321 §4.5.1: postmaster must be reachable, so a wrongly listed sender can ask for help.
        if (isPostmaster(rcpt.address)) {
          t.log.info({ event: 'dnsbl.postmaster_exempt', zone: first.zone }, 'listed client may write to postmaster');
          return undefined;
        }
        let verdict: Reject | Tempfail | undefined;
        for (const l of listed.filter(isRefusal)) {
          const r = replies('rcpt', tx.session.remoteAddress, l.zone);
          // Evidence once per transaction, however many recipients are refused.
          const seen = tx.evidence.some((e) => e.plugin === 'dnsbl' && e.check === l.zone && e.result === 'listed');
          const v = seen
            ? (l.action === 'reject' ? reject(r.reject) : tempfail(r.tempfail))
            : applyAction(tx, l.action, finding(l), r);
          verdict ??= v;
        }
        return verdict;
      }, { stage: STAGE.CHECK - 1 });
    }
  },
  cli: registerDnsblCli,
});
