import { definePlugin } from '../../core/plugin.ts';
import { STAGE } from '../../core/verdict.ts';
import { compilePolicy, networkReason, userReason } from './acl.ts';
import { RelayAclConfig } from './config.ts';

/**
 * Marks sessions that may relay; it never answers a hook itself. The core's default-deny rule at
 * RCPT (hooks.ts, smtp.rcptTo) reads `session.relay.allowed`.
 */
export default definePlugin({
  name: 'relay-acl',
  description: 'Let trusted networks and authenticated users relay (RFC 5321 §3.6.1); everyone else only reaches local domains.',
  config: RelayAclConfig,
  register(hooks, ctx) {
    const policy = compilePolicy(ctx.config);

    hooks.smtp.connect.tap((session, _p, t) => {
      const reason = networkReason(policy, session.remoteAddress);
      if (!reason) return undefined;
      session.allowRelay(reason);
      t.log.debug({ event: 'relay.allowed', reason }, 'client may relay');
      return undefined;
    }, { stage: STAGE.FIRST });

    // AUTH happens after connect, so the authenticated case is decided at MAIL FROM, the first
    // step of every transaction (RFC 4954 §4: the identity applies to later transactions).
    hooks.smtp.mailFrom.tap((tx, _p, t) => {
      const session = tx.session;
      if (session.relay.allowed) return undefined;
      const reason = userReason(policy, session.user);
      if (!reason) return undefined;
      session.allowRelay(reason);
      t.log.debug({ event: 'relay.allowed', reason }, 'authenticated user may relay');
      return undefined;
    }, { stage: STAGE.FIRST });
  },
});
