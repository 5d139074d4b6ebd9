// The part of a benchmark's Pochta config every SMTP bench shares: one plain MX listener on
// 127.0.0.1, no IMAP/POP3, log level info, spool fsync on. Callers append their own sections
// (`dns:`, `plugins:`); `queue` takes extra lines under `queue:` (two-space indented YAML).

export interface BenchServerYaml {
  /** Which harness wrote it (a comment in the file). */
  readonly writer: string;
  readonly hostname: string;
  readonly dataDir: string;
  readonly workers: number;
  readonly port: number;
  /** More `queue:` keys, e.g. ['concurrency: 40']. */
  readonly queue?: readonly string[];
}

export function benchServerYaml(o: BenchServerYaml): string {
  return `# Written by ${o.writer}
hostname: ${o.hostname}
dataDir: ${o.dataDir}
workers: ${o.workers}
log: { level: info, pretty: false }
smtp:
  listeners:
    mx: { kind: mx, host: 127.0.0.1, port: ${o.port} }
  maxConnectionsPerIp: 1000
  maxConnections: 5000
pop3: { listeners: {} }
imap: { listeners: {} }
queue:
  fsync: true
${(o.queue ?? []).map((l) => `  ${l}\n`).join('')}`;
}
