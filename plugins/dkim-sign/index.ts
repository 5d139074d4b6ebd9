import { readFile } from 'node:fs/promises';
import { definePlugin } from '../../core/plugin.ts';
import { isInternalSession } from '../../core/submit/internal-session.ts';
import { STAGE } from '../../core/verdict.ts';
import { composeEdited } from '../../core/queue/compose.ts';
import { DkimSignConfig } from './config.ts';
import { fromAddress, normalizeDomain, signingDomain } from './domain.ts';
import { defaultKeyFile, parseSigningKey } from './keys.ts';
import { readForSigning, signatures, type SigningKey } from './sign.ts';

export default definePlugin({
  name: 'dkim-sign',
  description: 'DKIM-sign authenticated submissions and the server\'s own mail (RFC 6376; RSA and Ed25519, RFC 8463), as the From domain.',
  config: DkimSignConfig,
  async register(hooks, ctx) {
    const cfg = ctx.config;
    const keys = new Map<string, SigningKey[]>();
    for (const [name, list] of Object.entries(cfg.domains)) {
      const domain = normalizeDomain(name);
      const loaded: SigningKey[] = [];
      for (const k of list) {
        const file = ctx.resolvePath(k.keyFile ?? defaultKeyFile(domain, k.selector));
        const pem = await readFile(file).catch((err: Error) => {
          throw new Error(`plugins.dkim-sign.domains.${name}: cannot read the key for selector ${k.selector} (${file}): ${err.message}; create one with \`pochta dkim keygen ${domain} --selector ${k.selector}\``);
        });
        loaded.push({ selector: k.selector, algorithm: k.algorithm, key: parseSigningKey(pem, k.algorithm, `plugins.dkim-sign.domains.${name} selector ${k.selector}`) });
      }
      keys.set(domain, loaded);
    }
    if (!keys.size) ctx.log.warn({ event: 'dkim.no_keys' }, 'no signing domains configured: nothing will be signed');
    const headers = cfg.headers.some((h) => h.toLowerCase() === 'from') ? cfg.headers : ['From', ...cfg.headers];

    // Last, after every other tap that edits headers: the signature covers exactly the bytes that
    // will be sent (added headers + spooled bytes − removed headers, core/queue/compose.ts).
    hooks.smtp.message.tap(async (tx, msg, t) => {
      const internal = isInternalSession(tx.session);
      if (internal ? !cfg.signInternal : !tx.session.user) return undefined;
      const fromField = (await msg.headers()).find((h) => h.name.toLowerCase() === 'from')?.value;
      const domain = signingDomain(fromField ? fromAddress(fromField) : undefined, (d) => keys.has(d));
      if (!domain) {
        t.log.debug({ event: 'dkim.not_signed', from: fromField }, 'no signing key for the From domain');
        ctx.metrics.inc('dkim_sign_total', { result: 'no_key' });
        return undefined;
      }
      const read = await readForSigning(composeEdited(tx.headerEdits, msg.stream()));
      const values = signatures(read, {
        domain,
        keys: keys.get(domain) ?? [],
        headers,
        oversign: cfg.oversign,
        now: Math.floor(ctx.clock.now() / 1000),
        ...(cfg.expireSeconds ? { expireSeconds: cfg.expireSeconds } : {}),
      });
      for (const v of values) tx.addHeader('DKIM-Signature', v);
      ctx.metrics.inc('dkim_sign_total', { result: 'signed' });
      t.log.debug({ event: 'dkim.signed', domain, selectors: keys.get(domain)?.map((k) => k.selector) }, 'signed');
      return undefined;
    }, { stage: STAGE.LAST });
  },
});
