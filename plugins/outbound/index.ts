import { readFile } from 'node:fs/promises';
import { rootCertificates } from 'node:tls';
import { definePlugin } from '../../core/plugin.ts';
import { REMOTE_DELIVERY } from '../../core/queue/remote.ts';
import { OutboundConfig } from './config.ts';
import { hookCalls, OutboundEngine } from './engine.ts';

export default definePlugin({
  name: 'outbound',
  description: 'Deliver remote mail: MX lookup (null MX, A fallback), TLS policy (STARTTLS, MTA-STS, REQUIRETLS, per-domain), smarthosts and transports, connection reuse; provides REMOTE_DELIVERY to the core scheduler.',
  config: OutboundConfig,
  async register(_hooks, ctx) {
    const cfg = ctx.config;
    let ca: string[] | undefined;
    if (cfg.tls.caFile) {
      const file = ctx.resolvePath(cfg.tls.caFile);
      const pem = await readFile(file, 'utf8').catch(() => {
        throw new Error(`tls.caFile: cannot read ${file}`);
      });
      ca = [...rootCertificates, pem];
    }
    const engine = new OutboundEngine({
      config: cfg,
      ehloName: cfg.ehloName ?? ctx.server.hostname,
      dns: ctx.dns,
      kv: ctx.kv,
      log: ctx.log,
      now: () => ctx.clock.now(),
      resolvePath: (p) => ctx.resolvePath(p),
      ca,
      // The engine drives the outbound stage: it calls route, tlsPolicy and beforeAttempt.
      hooks: hookCalls(ctx.drives),
    });
    ctx.services.provide(REMOTE_DELIVERY, engine);
    return () => engine.close();
  },
});
