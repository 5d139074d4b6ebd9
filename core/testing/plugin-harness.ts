import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { systemClock, type Clock } from '../clock.ts';
import { createResolver, type DnsResolver } from '../dns.ts';
import { MemoryKv } from '../kv/memory.ts';
import { memoryLogger } from './memory-log.ts';
import { Metrics } from '../metrics.ts';
import type { PluginDefinition } from '../plugin.ts';
import type { ResolvedPlugin } from '../plugin-loader.ts';
import { Runtime } from '../runtime.ts';
import { Session, Transaction } from '../smtp/session.ts';
import type { ListenerKind, MailFrom } from '../smtp/types.ts';

export interface HarnessOptions {
  plugins: ReadonlyArray<readonly [PluginDefinition<any>, Record<string, unknown>?]>;
  dataDir?: string;
  hostname?: string;
  dns?: DnsResolver;
  clock?: Clock;
  timeoutMs?: number;
}

/**
 * Runs real plugins in a real Runtime without sockets: for plugin unit tests. Hooks are called
 * directly; sessions and transactions are the core's own classes.
 */
export async function createPluginHarness(opts: HarnessOptions) {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'pochta-harness-')));
  const ownDir = !opts.dataDir;
  const { log, lines } = memoryLogger();
  const metrics = new Metrics();
  const clock = opts.clock ?? systemClock;
  const kv = new MemoryKv(clock);
  const resolved: ResolvedPlugin[] = opts.plugins.map(([def, cfg]) => ({
    name: def.name,
    enabled: true,
    timeoutMs: opts.timeoutMs ?? 5000,
    origin: 'test',
    definition: def,
    config: Object.freeze(def.config.parse(cfg ?? {}) as Record<string, unknown>),
  }));
  const runtime = new Runtime(resolved, {
    log, metrics, clock, kv, dns: opts.dns ?? createResolver({ servers: ['127.0.0.1:9'], timeoutMs: 200, tries: 1 }),
    hostname: opts.hostname ?? 'mx.test', dataDir,
  });
  try {
    await runtime.start();
  } catch (err) {
    // A plugin that fails to start: the caller gets no harness to close, so its dir goes here.
    await kv.close();
    if (ownDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    throw err;
  }
  let n = 0;
  const makeSession = (o: { remoteAddress?: string; kind?: ListenerKind; secure?: boolean; user?: string } = {}) => {
    const s = new Session({
      id: `S${++n}`,
      listener: { name: o.kind ?? 'mx', kind: o.kind ?? 'mx', host: '127.0.0.1', port: 0 },
      remoteAddress: o.remoteAddress ?? '192.0.2.1', remotePort: 40000, localAddress: '127.0.0.1', localPort: 25,
      secure: o.secure ?? false, log, openedAt: clock.now(),
    });
    if (o.user) s.user = o.user;
    return s;
  };
  const makeTransaction = (session: Session, from: string | Partial<MailFrom> = 'sender@example.org') => {
    const mf: MailFrom = typeof from === 'string'
      ? { address: from, args: {}, smtpUtf8: false, body: '7bit', requireTls: false }
      : { address: '', args: {}, smtpUtf8: false, body: '7bit', requireTls: false, ...from };
    return new Transaction(`Q${++n}`, session, mf);
  };
  return {
    runtime,
    hooks: runtime.hooks,
    services: runtime.services,
    metrics,
    dataDir,
    logs: lines,
    makeSession,
    makeTransaction,
    async close() {
      await runtime.dispose();
      await kv.close();
      if (ownDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
