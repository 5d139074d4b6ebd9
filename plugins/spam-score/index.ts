import path from 'node:path';
import { definePlugin } from '../../core/plugin.ts';
import { REPLY, withText } from '../../core/smtp/codes.ts';
import { isInternalSession } from '../../core/submit/internal-session.ts';
import { quarantine, reject, STAGE, tempfail } from '../../core/verdict.ts';
import { registerSpamCli } from './cli.ts';
import { SpamScoreConfig } from './config.ts';
import { fold, statusHeader } from './decide.ts';
import { drainLearnQueue } from './learn-queue.ts';
import { learnFromFiling } from './junk-learning.ts';
import { MAIL_STORE } from '../../core/store/mail-store.ts';
import { headerProcessor } from './light-facts.ts';
import { readFacts } from './message-facts.ts';
import { loadRules } from './rule-files.ts';
import { score, tokensOf } from './scorer.ts';
import { TokenStore } from './token-store.ts';

/** Arriving headers that claim a spam verdict: only ours may say so (forged ones are dropped). */
const OWN_HEADERS = ['X-Spam-Status', 'X-Spam-Score', 'X-Spam-Flag'];

export default definePlugin({
  name: 'spam-score',
  description: 'Adds up the evidence of every check, scored rules and a Bayesian classifier; tags, quarantines or rejects by threshold; holds back accounts that start sending spam.',
  config: SpamScoreConfig,
  async register(hooks, ctx) {
    const cfg = ctx.config;
    const rules = await loadRules(cfg.rules, cfg.ruleFiles.map((f) => ctx.resolvePath(f)));
    const store = new TokenStore(ctx.kv);
    const processHeaders = headerProcessor();
    const learnDir = ctx.resolvePath(cfg.learnDir);
    const heldKey = (user: string) => `spam-score:held:${user.toLowerCase()}`;
    const spamCountKey = (user: string) => `spam-score:out:${user.toLowerCase()}`;

    // A held account is refused before it sends anything (RFC 3463 4.7.1: temporary, policy).
    hooks.smtp.mailFrom.tap(async (tx) => {
      const user = tx.session.user;
      if (!user || !cfg.outbound.enabled) return undefined;
      if (!(await ctx.kv.get(heldKey(user)))) return undefined;
      return tempfail(withText(REPLY.policyTemp, 'Sending from this account is on hold; contact your administrator'));
    });

    hooks.smtp.message.tap(async (tx, msg) => {
      // Mail the server writes itself (bounces, reports) is not scored: it quotes what was scored
      // already, and holding the server's own sender would stop every bounce.
      if (isInternalSession(tx.session)) return undefined;
      const outbound = Boolean(tx.session.user);
      if (outbound && !cfg.outbound.enabled) return undefined;
      const facts = await readFacts(msg.stream(), cfg.maxScanBytes, undefined, processHeaders);
      const d = await score(facts, tx.evidence, rules, store, cfg, ctx.name);
      tx.evidence.push({ plugin: ctx.name, check: 'score', result: d.outcome, score: d.score, reason: d.symbols.map((s) => s.name).join(' ') });
      if (outbound) {
        if (d.outcome === 'reject') return reject(withText(REPLY.policy, `Message refused as spam (score ${d.score.toFixed(1)})`));
        if (d.outcome === 'ham') return undefined;
        const user = tx.session.user!;
        const n = await ctx.kv.incr(spamCountKey(user), 1, cfg.outbound.windowMs);
        if (n < cfg.outbound.holdAfter) return undefined;
        await ctx.kv.set(heldKey(user), String(ctx.clock.now()), { ttlMs: cfg.outbound.holdMs });
        ctx.log.error({ event: 'spam-score.account_held', user, count: n, score: d.score }, 'account held: it sent spam-like mail repeatedly (possibly hijacked)');
        return tempfail(withText(REPLY.policyTemp, 'Sending from this account is on hold; contact your administrator'));
      }
      for (const h of OWN_HEADERS) tx.removeHeader(h);
      tx.addHeader('X-Spam-Score', d.score.toFixed(1));
      tx.addHeader('X-Spam-Status', fold(statusHeader(d, cfg.thresholds), 'X-Spam-Status'.length));
      if (d.outcome === 'reject') return reject(withText(REPLY.policy, `Message refused as spam (score ${d.score.toFixed(1)})`));
      if (d.outcome === 'quarantine') return quarantine(`spam score ${d.score.toFixed(1)}`);
      return undefined;
    }, { stage: STAGE.DECIDE });

    // Users teach by filing: a move into Junk is spam, out of Junk (of mail we called spam) ham.
    if (cfg.learnFromJunk) {
      hooks.mailbox.newMessage.tap(async (ev, added) => {
        if (!added.byClient) return;
        const mailStore = ctx.services.find(MAIL_STORE);
        if (!mailStore) return;
        const done = await learnFromFiling({
          store: mailStore, tokens: store, tokensOf: (f) => tokensOf(f, cfg.bayes.maxTokens), maxScanBytes: cfg.maxScanBytes,
          junkFolder: cfg.junkFolder, ignoreFolders: cfg.ignoreFolders,
        }, ev.user, ev.folder, added.uids);
        for (const o of done) ctx.log.info({ event: 'spam-score.learned', source: 'filing', user: ev.user, folder: ev.folder, uid: o.uid, label: o.label, result: o.result }, 'learned from a user filing a message');
      });
    }

    // Learning from files dropped by `pochta spam learn`; one pass at a time.
    let draining: Promise<void> | undefined;
    const drain = () => {
      draining ??= drainLearnQueue(learnDir, store, (f) => tokensOf(f, cfg.bayes.maxTokens), cfg.maxScanBytes)
        .then((done) => {
          for (const o of done) {
            if (o.result === 'failed') ctx.log.warn({ event: 'spam-score.learn_failed', file: path.basename(o.file), err: o.error }, 'could not learn a message');
            else ctx.log.info({ event: 'spam-score.learned', label: o.label, result: o.result }, 'learned a message');
          }
        })
        .catch((err: unknown) => ctx.log.warn({ event: 'spam-score.learn_failed', err }, 'learning pass failed'))
        .finally(() => (draining = undefined));
      return draining;
    };
    void drain();
    const timer = setInterval(() => void drain(), cfg.learnPollMs);
    timer.unref();
    return async () => {
      clearInterval(timer);
      await draining;
    };
  },
  cli: registerSpamCli,
});
