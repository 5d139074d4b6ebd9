import { z } from 'zod';
import { definePlugin, reject, REPLY, withText, STAGE } from 'pochta';
import { isListed } from './match.ts';

/**
 * plugin-template: refuses mail whose envelope sender is on a list. Copy it with
 * `npx pochta plugin new NAME` and make it yours: the shape (schema, register, taps, test) stays.
 */
export default definePlugin({
  name: 'plugin-template',
  description: 'Refuse mail from listed envelope senders (example plugin).',
  config: z.strictObject({
    senders: z.array(z.string().min(1)).default([])
      .describe('Addresses (user@example.com) or whole domains (@example.com) to refuse.'),
    action: z.enum(['reject', 'tag']).default('reject')
      .describe('reject: answer 550 5.7.1 at MAIL FROM; tag: accept and record evidence only.'),
  }),
  register(hooks, ctx) {
    const list = ctx.config.senders.map((s) => s.toLowerCase());
    hooks.smtp.mailFrom.tap(async (tx, mailFrom, { log }) => {
      if (!isListed(mailFrom.address, list)) return undefined;
      tx.evidence.push({ plugin: ctx.name, check: 'sender', result: 'listed', reason: mailFrom.address });
      log.info({ event: 'template.listed', sender: mailFrom.address }, 'listed sender');
      if (ctx.config.action === 'tag') return undefined;
      return reject(withText(REPLY.policy, 'Sender refused by policy'));
    }, { stage: STAGE.CHECK });
  },
});
