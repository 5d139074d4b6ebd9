// Starts Pochta as a child process for the protection benchmark: the bare core or the core
// plus the full inbound protection set, each with its own data dir, on 127.0.0.1:<free port>.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchServerYaml } from '../lib/pochta-yaml.ts';
import { queueTraining } from './bayes-training.ts';
import { ALLOW_ZONE, BLOCK_ZONES } from './zones.ts';

export type Variant = 'bare' | 'full';

export interface PochtaOpts {
  repo: string;
  work: string;
  variant: Variant;
  port: number;
  dnsServer: string;
  clamdPort: number;
  /** clamd's unix socket: when set, clamav connects there instead of to the TCP port (BENCH_CLAMD=unix). */
  clamdSocket?: string;
  /** dns.cache.maxEntries: 0 = every session really asks the DNS server. */
  dnsCacheEntries: number;
  /** Extra node flags for the Pochta process (e.g. --cpu-prof). */
  nodeFlags?: string[];
  /** Protection plugins left out of the full set (BENCH_ABLATE in run.ts: what each one costs). */
  omit?: readonly string[];
}

export const RCPT = 'user@bench.test';

const CORE_PLUGINS = `  relay-acl: { networks: [] }
  auth-file: {}
`;
const DELIVERY_PLUGINS = `  aliases: {}
  local-domains: { domains: [bench.test] }
`;

// The full inbound set in docs/protection.md order. Greylist and rate-limit are off (they would
// tempfail or cap a single-IP load generator). Loopback is checked (checkPrivate) because every
// client here is 127.0.0.1. Actions are tag/ignore so every message is still delivered.
const PROTECTION_PLUGINS: Record<string, string> = {
  dnsbl: `  dnsbl:
    zones:
${BLOCK_ZONES.map((z) => `      - { zone: ${z}, returnCodes: ['127.0.0.2-127.0.0.11'], score: 3, action: tag }`).join('\n')}
    allowZones:
      - { zone: ${ALLOW_ZONE}, returnCodes: ['127.0.0.0/16'] }
    checkPrivate: true
`,
  'helo-rdns': `  helo-rdns:
    checkPrivate: true
`,
  spf: `  spf:
    failAction: tag
`,
};
const MESSAGE_PLUGINS = (clamdPort: number, clamdSocket?: string): Record<string, string> => ({
  'dkim-verify': `  dkim-verify:
    failAction: tag
`,
  dmarc: `  dmarc:
    rejectAction: tag
    quarantineAction: tag
`,
  clamav: `  clamav: { ${clamdSocket ? `socket: '${clamdSocket}'` : `host: 127.0.0.1, port: ${clamdPort}`}, action: reject, onUnavailable: tempfail }
`,
  'spam-score': `  spam-score: {}
`,
});

/** The protection plugins of the full set, for `omit`. */
export const PROTECTION_SET = [...Object.keys(PROTECTION_PLUGINS), ...Object.keys(MESSAGE_PLUGINS(0))];

const blocks = (all: Record<string, string>, omit: readonly string[]): string =>
  Object.entries(all).filter(([name]) => !omit.includes(name)).map(([, yaml]) => yaml).join('');

export function pochtaConfig(o: PochtaOpts, dataDir: string, mailRoot: string): string {
  const full = o.variant === 'full';
  const omit = o.omit ?? [];
  return benchServerYaml({ writer: `bench/protection/run.ts (${o.variant})`, hostname: 'pochta-bench.localdomain', dataDir, workers: 1, port: o.port }) + `dns:
  servers: ['${o.dnsServer}']
  timeoutMs: 5000
  client: ${process.env.BENCH_DNS_CLIENT ?? 'pochta'}
  cache: { maxEntries: ${o.dnsCacheEntries} }
plugins:
${CORE_PLUGINS}${full ? blocks(PROTECTION_PLUGINS, omit) : ''}${DELIVERY_PLUGINS}${full ? blocks(MESSAGE_PLUGINS(o.clamdPort, o.clamdSocket), omit) : ''}  maildir: { root: ${mailRoot} }
`;
}

export interface RunningPochta {
  child: ChildProcess;
  pid: number;
  port: number;
  mailRoot: string;
  logFile: string;
  /** Date.now() right after the spawn (after `user add`), for leaving start-up out of a profile. */
  spawnedAt: number;
  /** Messages queued for the classifier to learn at start (full variant), 0 for bare. */
  training: number;
}

export function startPochta(o: PochtaOpts, name: string): RunningPochta {
  const dir = path.join(o.work, name);
  const dataDir = path.join(dir, 'data');
  const mailRoot = path.join(dir, 'mail');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.mkdirSync(mailRoot, { recursive: true });
  const configFile = path.join(dir, 'pochta.yaml');
  fs.writeFileSync(configFile, pochtaConfig(o, dataDir, mailRoot));
  const bin = path.join(o.repo, 'bin', 'pochta.js');
  // The recipient is a real user, added the way an admin would.
  const add = spawnSync(process.execPath, [bin, '--config', configFile, 'user', 'add', RCPT], {
    input: 'bench-password-123\n', cwd: o.repo, encoding: 'utf8', timeout: 60_000,
  });
  if (add.status !== 0) throw new Error(`pochta user add failed: ${add.stderr}`);
  // The full set's classifier is trained, as a site's would be (untrained, Bayes is skipped).
  const training = o.variant === 'full' && !o.omit?.includes('spam-score') ? queueTraining(o.repo, configFile, dir) : 0;
  const logFile = path.join(dir, 'pochta.log');
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...(o.nodeFlags ?? []), bin, 'start', '--config', configFile], {
    cwd: dir, env: { ...process.env, NODE_ENV: 'production' }, detached: true, stdio: ['ignore', out, out],
  });
  const spawnedAt = Date.now();
  fs.closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start Pochta (${name})`);
  return { child, pid: child.pid, port: o.port, mailRoot, logFile, spawnedAt, training };
}
