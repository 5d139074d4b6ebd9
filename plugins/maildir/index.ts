import { definePlugin } from '../../core/plugin.ts';
import { MAIL_STORE } from '../../core/store/mail-store.ts';
import { MaildirConfig } from './config.ts';
import { deliverLocal } from './local-delivery.ts';
import { MaildirStore } from './maildir-store.ts';

export default definePlugin({
  name: 'maildir',
  description: 'Deliver local mail into Maildir++ folders, and provide the mail store (MAIL_STORE) that IMAP and POP3 read.',
  config: MaildirConfig,
  register(hooks, ctx) {
    const store = new MaildirStore({
      root: ctx.resolvePath(ctx.config.root),
      hostname: ctx.server.hostname,
      onListenerError: (err) => ctx.log.error({ event: 'maildir.listener-failed', err: (err as Error).message }, 'a change listener threw'),
    });
    ctx.services.provide(MAIL_STORE, store);

    hooks.delivery.local.tap(async (job, _payload, t) => {
      const result = await deliverLocal(store, job, {
        autocreateFolders: ctx.config.autocreateFolders,
        onFallback: (folder, reason) =>
          t.log.warn({ event: 'maildir.fallback', user: job.user, folder, reason }, 'delivered to INBOX instead'),
      });
      if (result.kind === 'delivered') t.log.debug({ event: 'maildir.delivered', user: job.user, detail: result.detail }, 'stored');
      return result;
    });

    return () => store.close();
  },
});
