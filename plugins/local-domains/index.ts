import { USER_DIRECTORY } from '../../core/auth/user-directory.ts';
import { LOCAL_DOMAINS } from '../../core/domains.ts';
import { definePlugin } from '../../core/plugin.ts';
import { REPLY } from '../../core/smtp/codes.ts';
import { acceptRcpt, reject } from '../../core/verdict.ts';
import { LocalDomainsConfig } from './config.ts';
import { decideRecipient, domainSet, type DomainSource } from './resolve.ts';

export default definePlugin({
  name: 'local-domains',
  description: 'Accept recipients that are users of a local domain; refuse unknown ones with 550 5.1.1.',
  config: LocalDomainsConfig,
  register(hooks, ctx) {
    const separators = ctx.config.plusSeparator;
    const fixed = ctx.config.domains.length ? domainSet(ctx.config.domains) : undefined;
    // One answer for every plugin that asks "is this domain ours?" (aliases reads it per call).
    ctx.services.provide(LOCAL_DOMAINS, {
      list: async () => [...(fixed ?? domainSet(await ctx.services.get(USER_DIRECTORY).domains()))],
    });

    hooks.smtp.rcptTo.tap(async (_tx, rcpt, t) => {
      // Looked up per call: the directory may be provided by a plugin registered after this one,
      // and a missing one must fail soft (the runner turns the throw into 451 4.3.0 and logs it).
      const directory = ctx.services.get(USER_DIRECTORY);
      const domains: DomainSource = fixed ?? (() => directory.domains());
      const d = await decideRecipient(rcpt.address, { separators, domains, directory });
      switch (d.kind) {
        case 'not-local':
          return undefined;
        case 'unknown':
          t.log.debug({ event: 'local-domains.unknown', rcpt: rcpt.address }, 'no such user');
          // RFC 5321 §3.6.2 / RFC 3463: 550 5.1.1, bad destination mailbox address.
          return reject(REPLY.noSuchUser);
        case 'user':
          // The tag is parsed but not used yet: delivery into a folder named by it may come later.
          t.log.debug({ event: 'local-domains.user', rcpt: rcpt.address, user: d.user, ...(d.tag !== undefined ? { tag: d.tag } : {}) }, 'local user');
          return acceptRcpt([{ kind: 'local', user: d.user }]);
      }
    });
  },
});
