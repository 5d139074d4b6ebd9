import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { memoryLogger } from './memory-log.ts';
import { PochtaServer } from '../server.ts';
import type { DnsResolver } from '../dns.ts';
import type { Clock } from '../clock.ts';
import type { DeliveryNotifier } from '../queue/notify-port.ts';

export interface TestServerOptions {
  /** Merged over a config with every listener on 127.0.0.1 port 0. */
  config?: Record<string, unknown>;
  /** Reuse a data directory (restart tests). */
  dataDir?: string;
  dns?: DnsResolver;
  /** An injected clock (greylisting delays, rate windows) shared by several servers in one test. */
  clock?: Clock;
  /** Runs on the data directory before the server starts (add users, drop files). */
  setup?: (dataDir: string) => Promise<void>;
  /** Takes the delivery notices instead of the DSN notifier, from before the queue resumes. */
  notifier?: DeliveryNotifier;
}

/**
 * A real server on loopback with free ports, a temp data directory and logs collected in memory.
 * `close()` stops it and removes what it created.
 */
export async function startTestServer(opts: TestServerOptions = {}) {
  const dataDir = opts.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'pochta-test-')));
  const { log, lines: logs } = memoryLogger();

  const base = {
    hostname: 'mail.example.net',
    dataDir,
    log: { level: 'debug' },
    smtp: {
      listeners: {
        mx: { kind: 'mx', host: '127.0.0.1', port: 0 },
        submission: { kind: 'submission', host: '127.0.0.1', port: 0 },
        submissions: { kind: 'submissions', host: '127.0.0.1', port: 0 },
      },
    },
    pop3: {
      listeners: {
        pop3: { tls: 'starttls', host: '127.0.0.1', port: 0 },
        pop3s: { tls: 'implicit', host: '127.0.0.1', port: 0 },
      },
    },
    imap: {
      listeners: {
        imap: { tls: 'starttls', host: '127.0.0.1', port: 0 },
        imaps: { tls: 'implicit', host: '127.0.0.1', port: 0 },
      },
    },
  };
  const tree = deepMerge(base, opts.config ?? {});
  await opts.setup?.(dataDir);
  const loaded = await loadConfig({ tree, cwd: dataDir, env: {} });
  const server = new PochtaServer({ loaded, log, ...(opts.dns ? { dns: opts.dns } : {}), ...(opts.clock ? { clock: opts.clock } : {}), ...(opts.notifier ? { notifier: opts.notifier } : {}) });
  await server.start();
  const addr = server.addresses();
  const port = (name: string) => {
    const a = addr[name];
    if (!a) throw new Error(`no listener ${name}`);
    return a.port;
  };
  return {
    server,
    dataDir,
    logs,
    port,
    async close(keepData = false) {
      await server.stop();
      if (!keepData && !opts.dataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}

export function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>)
      : v;
  }
  return out;
}
