import { z } from 'zod';
import { DsnSchema } from '../dsn/config.ts';

/**
 * The root config. Every key has a default and a description; `docs/config.md` is generated
 * from this schema. Unknown keys are errors (strict objects), so a typo stops the start.
 */

export const ListenerSchema = z.strictObject({
  kind: z.enum(['mx', 'submission', 'submissions']).describe('mx: inbound (no AUTH); submission: STARTTLS then AUTH required; submissions: implicit TLS, AUTH required.'),
  host: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
  port: z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one (tests).'),
  enabled: z.boolean().default(true).describe('Set false to switch this listener off.'),
  greetingDelayMs: z.number().int().min(0).max(60_000).optional()
    .describe('Pause before the 220 greeting; a client that talks first is refused (early talker). Default 0 (off).'),
});
export type ListenerConfig = z.output<typeof ListenerSchema>;

export const SmtpSchema = z.strictObject({
  listeners: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'listener names are lower-case words'), ListenerSchema)
    .default({
      mx: { kind: 'mx', host: '127.0.0.1', port: 2525, enabled: true },
      submission: { kind: 'submission', host: '127.0.0.1', port: 2587, enabled: true },
      submissions: { kind: 'submissions', host: '127.0.0.1', port: 2465, enabled: true },
    })
    .describe('Named SMTP listeners. Defaults: mx on 127.0.0.1:2525, submission on :2587, submissions on :2465.'),
  maxMessageSize: z.number().int().min(1024).default(25 * 1024 * 1024).describe('Largest message accepted, in bytes (SIZE, RFC 1870); larger gets 552 5.3.4.'),
  maxRecipients: z.number().int().min(1).default(100).describe('Recipients per message (RFC 5321 §4.5.3.1.8: at least 100); more get 452 4.5.3.'),
  maxLineLength: z.number().int().min(78).default(998)
    .describe('Longest line allowed in a message, in octets without CRLF (RFC 5322 §2.1.1); longer gets 550 5.5.2.'),
  maxConnections: z.number().int().min(1).default(1000).describe('Connections open at once, all listeners together; more get 421 4.7.0.'),
  maxConnectionsPerIp: z.number().int().min(1).default(20).describe('Connections open at once from one address; more get 421 4.7.0.'),
  idleTimeoutMs: z.number().int().min(1000).default(300_000).describe('Close a connection idle this long (RFC 5321 §4.5.3.2.7: at least 5 minutes).'),
  commandTimeoutMs: z.number().int().min(1000).default(600_000)
    .describe('Longest time one command line or one message body may take to arrive, however slowly it trickles in (RFC 5321 §4.5.3.2.6: 10 minutes for DATA).'),
  bareLineEndings: z.enum(['reject', 'normalize']).default('reject')
    .describe('A bare CR or LF in DATA (SMTP smuggling): reject with 550 5.5.2, or normalise to CRLF.'),
  reverseDns: z.boolean().default(false).describe('Look up the client\'s PTR name at connect (used in the Received header).'),
});

export const Pop3ListenerSchema = z.strictObject({
  tls: z.enum(['starttls', 'implicit']).describe('starttls: plain connection with STLS (port 110); implicit: TLS from the first byte (port 995).'),
  host: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
  port: z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one (tests).'),
  enabled: z.boolean().default(true).describe('Set false to switch this listener off.'),
});

export const Pop3Schema = z.strictObject({
  listeners: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'listener names are lower-case words'), Pop3ListenerSchema)
    .default({
      pop3: { tls: 'starttls', host: '127.0.0.1', port: 2110, enabled: true },
      pop3s: { tls: 'implicit', host: '127.0.0.1', port: 2995, enabled: true },
    })
    .describe('Named POP3 listeners. Defaults: pop3 on 127.0.0.1:2110 (STLS), pop3s on :2995 (implicit TLS).'),
  allowPlaintextAuth: z.boolean().default(false)
    .describe('Allow USER/PASS and AUTH before TLS (RFC 2595 §3 says no; only for loopback testing).'),
  idleTimeoutMs: z.number().int().min(1000).default(600_000).describe('Close a session idle this long (RFC 1939 §3: at least 10 minutes).'),
  maxLineLength: z.number().int().min(255).default(4096).describe('Longest command line accepted; longer gets -ERR and the line is discarded.'),
  maxConnections: z.number().int().min(1).default(1000).describe('POP3 sessions open at once.'),
});

export const ImapListenerSchema = z.strictObject({
  tls: z.enum(['starttls', 'implicit']).describe('starttls: plain connection with STARTTLS and LOGINDISABLED until TLS (port 143); implicit: TLS from the first byte (port 993).'),
  host: z.string().min(1).default('127.0.0.1').describe('Address to listen on.'),
  port: z.number().int().min(0).max(65535).describe('TCP port; 0 picks a free one (tests).'),
  enabled: z.boolean().default(true).describe('Set false to switch this listener off.'),
});

export const ImapSchema = z.strictObject({
  listeners: z.record(z.string().regex(/^[a-z][a-z0-9-]*$/, 'listener names are lower-case words'), ImapListenerSchema)
    .default({
      imap: { tls: 'starttls', host: '127.0.0.1', port: 2143, enabled: true },
      imaps: { tls: 'implicit', host: '127.0.0.1', port: 2993, enabled: true },
    })
    .describe('Named IMAP listeners. Defaults: imap on 127.0.0.1:2143 (STARTTLS), imaps on :2993 (implicit TLS).'),
  allowPlaintextAuth: z.boolean().default(false)
    .describe('Allow LOGIN and AUTHENTICATE before TLS (RFC 3501 §6.2.3 LOGINDISABLED otherwise; only for loopback testing).'),
  idleTimeoutMs: z.number().int().min(60_000).default(1_800_000)
    .describe('Close an authenticated session silent this long, IDLE included (RFC 3501 §5.4: at least 30 minutes; IDLE is re-armed by the client, RFC 2177).'),
  preAuthTimeoutMs: z.number().int().min(10_000).default(120_000).describe('Close a connection that has not logged in after this long silent.'),
  maxLineLength: z.number().int().min(1024).default(65_536)
    .describe('Longest command line, in octets without CRLF and literals (RFC 7162 §4 asks for at least 8192); longer gets BAD and the line is discarded.'),
  maxLiteralSize: z.number().int().min(1024).optional()
    .describe('Largest APPEND literal in octets; larger gets NO [TOOBIG]. Default: smtp.maxMessageSize.'),
  maxConnections: z.number().int().min(1).default(1000).describe('IMAP sessions open at once.'),
});

export const TlsSchema = z.strictObject({
  cert: z.string().optional().describe('PEM certificate chain path; with key. Absent: a self-signed certificate is generated into the data directory.'),
  key: z.string().optional().describe('PEM private key path.'),
  minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version offered.'),
});

export const QueueSchema = z.strictObject({
  concurrency: z.number().int().min(1).max(1000).default(100).describe('Queued messages being delivered at once (local deliveries and remote jobs). Keep it at least the outbound plugin\'s concurrency.total: a remote job holds its slot while slow destinations answer, so a low value lets a few slow sites hold up all outbound mail.'),
  retryBaseMs: z.number().int().min(100).default(60_000).describe('First retry delay for a temporarily failed local delivery; doubles each time.'),
  retryMaxMs: z.number().int().min(1000).default(3_600_000).describe('Longest delay between retries.'),
  maxAgeMs: z.number().int().min(60_000).default(5 * 24 * 3_600_000).describe('Give up on a recipient this long after the message arrived (local and remote; a failure notice follows).'),
  remoteRetryBaseMs: z.number().int().min(100).default(300_000)
    .describe('First retry delay for a remote recipient after a 4xx reply or a connection error; doubles each time (5m, 10m, 20m, …).'),
  remoteRetryMaxMs: z.number().int().min(1000).default(4 * 3_600_000).describe('Longest delay between two attempts for a remote recipient.'),
  delayWarningMs: z.number().int().min(1000).default(4 * 3_600_000)
    .describe('Send a delay notice (RFC 3461 NOTIFY=DELAY, or no NOTIFY) for a recipient still undelivered this long after the message arrived; once per recipient.'),
  fsync: z.boolean().default(true).describe('fsync spool files and directories before answering 250. Only turn off for throw-away test setups.'),
  memoryBodyBytes: z.number().int().min(0).max(16 * 1024 * 1024).default(128 * 1024)
    .describe('Messages up to this size are held in memory while they are checked (and never written to the spool when delivered inline); larger ones are streamed to the spool file as they arrive.'),
  inlineDelivery: z.boolean().default(true)
    .describe('When every recipient is local, deliver before answering 250; the fsynced Maildir copies are then the durable copy and no spool entry is written. Anything not delivered at once is spooled as usual.'),
});

export const RedisSchema = z.strictObject({
  url: z.string().regex(/^rediss?:\/\//, 'a redis:// or rediss:// URL').optional()
    .describe('redis://[:password@]host:port[/db] (rediss:// for TLS); wins over host, port and path. Never logged.'),
  host: z.string().min(1).optional().describe('Redis host (default 127.0.0.1 when neither url nor path is set).'),
  port: z.number().int().min(1).max(65535).optional().describe('Redis port (default 6379).'),
  path: z.string().min(1).optional().describe('A unix socket path instead of host and port.'),
  prefix: z.string().default('pochta:').describe('Put before every key and channel, so several deployments can share one Redis.'),
  connectTimeoutMs: z.number().int().min(50).default(2000).describe('Give up one connection attempt after this long (reconnects continue in the background).'),
  commandTimeoutMs: z.number().int().min(10).default(1000)
    .describe('A kv call that gets no answer in this long fails, and the plugin applies its own failure policy (fail open or closed). While Redis is down, calls fail at once.'),
});

export const KvSchema = z.strictObject({
  redis: RedisSchema.optional()
    .describe('Keep shared state (greylisting, rate limits, notifications) in Redis, so several Pochta nodes share it. Absent: in memory, this process only.'),
});

/** A plugin entry: reserved keys for the host, everything else is the plugin's own config. */
export const PluginEntryBase = z.object({
  enabled: z.boolean().default(true).describe('Set false to switch the plugin off.'),
  module: z.string().optional().describe('Where to load a third-party plugin from: an npm package (pochta-plugin-*) or a path.'),
  timeoutMs: z.number().int().min(10).max(600_000).default(30_000).describe('Time budget for each hook call of this plugin.'),
});
export const RESERVED_PLUGIN_KEYS = new Set(Object.keys(PluginEntryBase.shape));

export const RootSchema = z.strictObject({
  // '' stands for "this machine's host name" and is filled in by the loader, so docs stay stable.
  hostname: z.string().regex(/^([A-Za-z0-9.-]+)?$/, 'a host name').default('').describe('This server\'s name: greeting, Received headers, Maildir file names. Default: the machine\'s host name.'),
  dataDir: z.string().min(1).default('./data').describe('Where the spool, mailboxes and generated files live; relative to the config file (or the working directory).'),
  workers: z.number().int().min(1).max(31).default(1)
    .describe('SMTP worker processes sharing the listeners (cluster), to use every core. Each owns the messages it received; per-IP limits and in-memory counters apply per worker (share them through Redis).'),
  log: z.strictObject({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('Lowest level logged.'),
    pretty: z.boolean().optional().describe('Human-readable logs; default: on when stdout is a terminal.'),
  }).prefault({}),
  dns: z.strictObject({
    servers: z.array(z.string()).default([]).describe('DNS servers (host or host:port); empty: the system resolvers.'),
    timeoutMs: z.number().int().min(100).max(60_000).default(5000).describe('Time for one DNS lookup, all tries included; then it fails with code ETIMEOUT.'),
    tries: z.number().int().min(1).max(5).default(2).describe('Queries sent per lookup before giving up (the time budget is shared).'),
    client: z.enum(['pochta', 'node']).default('pochta').describe('Who asks A, AAAA, MX, TXT and PTR questions: `pochta`, the built-in stub client (one connected UDP socket per server, the queries of one event-loop turn sent together, TCP when an answer is truncated, answers checked against the question and the server asked), or `node`, node\'s c-ares resolver (a new socket for each burst of queries). Other types always go through node. Names are always absolute: no search domains.'),
    cache: z.strictObject({
      maxEntries: z.number().int().min(0).max(1_000_000).default(10_000).describe('Most answers kept in memory (least recently used go first); 0 turns the cache off.'),
      defaultTtlSec: z.number().int().min(0).default(300).describe('How long answers are kept whose TTL the client does not report: with `client: node`, everything but A and AAAA; the built-in client reports every answer\'s TTL.'),
      minTtlSec: z.number().int().min(0).default(0).describe('Answers are kept at least this long, whatever their TTL.'),
      maxTtlSec: z.number().int().min(0).default(3600).describe('Answers are kept at most this long, whatever their TTL.'),
      negativeTtlSec: z.number().int().min(0).default(60).describe('How long "no such name" and "no such record" answers are kept (RFC 2308). 0: not cached.'),
    }).prefault({}).describe('The answer cache each server keeps (shared by every plugin and mailauth).'),
  }).prefault({}).describe('The resolver every DNS lookup goes through: block lists, rDNS, SPF, DKIM, DMARC, MX. Changes need a restart.'),
  smtp: SmtpSchema.prefault({}),
  pop3: Pop3Schema.prefault({}),
  imap: ImapSchema.prefault({}),
  tls: TlsSchema.prefault({}),
  queue: QueueSchema.prefault({}),
  dsn: DsnSchema.prefault({}).describe('Delivery status notifications (bounces, delay warnings, RFC 3464).'),
  kv: KvSchema.prefault({}),
  plugins: z.record(z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'plugin names are lower-case words with dashes'), z.record(z.string(), z.unknown()))
    .default({})
    .describe('Plugins in run order, keyed by name. Reserved keys: enabled, module, timeoutMs; the rest is the plugin\'s config.'),
});

export type RootConfig = z.output<typeof RootSchema>;
export type RootConfigInput = z.input<typeof RootSchema>;
