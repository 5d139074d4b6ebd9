import { createLocalNetworks } from '../../core/dns/local-address.ts';
import { LOCAL_DOMAINS } from '../../core/domains.ts';
import { definePlugin } from '../../core/plugin.ts';
import { applyAction } from '../../core/policy/action.ts';
import type { SmtpSession } from '../../core/smtp/types.ts';
import { STAGE, type Reject, type Tempfail } from '../../core/verdict.ts';
import { HeloRdnsConfig } from './config.ts';
import { forwardConfirm, type FcrdnsResult } from './fcrdns.ts';
import { analyzeHelo, printable } from './helo.ts';
import { CHECK_NAME, replies, type CheckKey } from './replies.ts';
import { FCRDNS_SLOT } from './slots.ts';

export { FCRDNS_SLOT } from './slots.ts';

const PLUGIN = 'helo-rdns';

/**
 * Reverse DNS and HELO checks. Reverse DNS starts at connect (reusing the core's rDNS name when
 * smtp.reverseDns made one) and is judged at HELO together with the HELO argument; every finding
 * is evidence, and only a check configured to reject or tempfail answers the HELO.
 */
export default definePlugin({
  name: PLUGIN,
  description: 'Forward-confirmed reverse DNS and HELO checks (RFC 5321 §4.1.1.1); evidence with scores, refusal only where configured.',
  config: HeloRdnsConfig,
  register(hooks, ctx) {
    const cfg = ctx.config;
    const isLocal = createLocalNetworks();
    // Per connection, dropped with it: a WeakMap in the plugin's own scope.
    const pending = new WeakMap<SmtpSession, Promise<FcrdnsResult>>();
    const applies = (s: SmtpSession) => cfg.listeners.includes(s.listener.kind) && (cfg.checkPrivate || !isLocal(s.remoteAddress));

    const fcrdnsOf = (s: SmtpSession): Promise<FcrdnsResult> => {
      let p = pending.get(s);
      if (!p) {
        p = forwardConfirm(ctx.dns, s.remoteAddress, cfg.lookupTimeoutMs, s.clientHostname ? [s.clientHostname] : undefined).then((r) => {
          s.slots.set(FCRDNS_SLOT, r);
          s.log.debug({ event: 'helo-rdns.fcrdns', result: r.result, hostname: r.hostname }, `reverse DNS ${r.result}`);
          return r;
        });
        pending.set(s, p);
      }
      return p;
    };

    const ourNames = async (): Promise<Set<string>> => {
      let domains: string[] = [];
      try {
        domains = (await ctx.services.find(LOCAL_DOMAINS)?.list()) ?? [];
      } catch (err) {
        ctx.log.warn({ event: 'helo-rdns.local_domains_failed', err: (err as Error).message }, 'could not list the local domains');
      }
      return new Set([ctx.server.hostname, ...domains].map((d) => d.toLowerCase()).filter(Boolean));
    };

    hooks.smtp.connect.tap((s) => {
      // Start the lookups now, so they run while the client reads the greeting. This runs before
      // dnsbl (STAGE.ALLOW) waits for its lists, so the PTR query goes out with theirs instead
      // of after their answers: one resolver wake-up and one socket for all of them. A client
      // rate-limit then refuses (STAGE.CHECK - 10) has had its PTR asked too, as it has had the
      // lists; its further connections are answered from the DNS cache.
      if (applies(s)) void fcrdnsOf(s);
      return undefined;
    }, { stage: STAGE.ALLOW - 1 });

    hooks.smtp.helo.tap(async (s, helo, t) => {
      if (!applies(s)) return undefined;
      const [r, names] = await Promise.all([fcrdnsOf(s), ourNames()]);
      // A repeated HELO (after STARTTLS, or a second EHLO) replaces what the previous one recorded.
      for (let i = s.evidence.length - 1; i >= 0; i--) if (s.evidence[i]?.plugin === PLUGIN) s.evidence.splice(i, 1);

      const findings: Array<{ key: CheckKey; result: string; reason: string }> = [];
      if (r.result === 'none') findings.push({ key: 'noPtr', result: 'none', reason: `no PTR name for ${s.remoteAddress}` });
      if (r.result === 'fail') findings.push({ key: 'ptrMismatch', result: 'fail', reason: `${r.names.map(printable).join(', ')} does not resolve to ${s.remoteAddress}` });
      // No answer says nothing about the client: recorded, never acted on.
      if (r.result === 'temperror') s.evidence.push({ plugin: PLUGIN, check: 'fcrdns', result: 'temperror', score: 0, action: 'ignore' });
      for (const f of analyzeHelo(helo.host, { clientIp: s.remoteAddress, ourNames: names })) findings.push({ key: f.check, result: f.result, reason: f.reason });

      let verdict: Reject | Tempfail | undefined;
      for (const f of findings) {
        const c = cfg[f.key];
        const v = applyAction(s, c.action, { plugin: PLUGIN, check: CHECK_NAME[f.key], result: f.result, score: c.score, reason: f.reason }, replies(f.key, s.remoteAddress));
        verdict ??= v;
      }
      if (findings.length) t.log.info({ event: 'helo-rdns.findings', findings: findings.map((f) => `${CHECK_NAME[f.key]}=${f.result}`) }, 'HELO/rDNS findings');
      return verdict;
    });
  },
});
