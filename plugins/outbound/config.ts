import { z } from 'zod';

const hostName = z.string().min(1).regex(/^[A-Za-z0-9.:_[\]-]+$/, 'a host name or IP address');
const fingerprint = z.string().regex(/^[0-9A-Fa-f]{2}(:?[0-9A-Fa-f]{2}){31}$/, 'a SHA-256 fingerprint in hex (colons optional)');

/** A secret given inline, from an environment variable or from a file; never logged. */
export const Secret = z.union([
  z.string().min(1),
  z.strictObject({ env: z.string().min(1).describe('Environment variable holding the secret.') }),
  z.strictObject({ file: z.string().min(1).describe('File holding the secret (trailing newline trimmed); relative paths from the data directory.') }),
]).describe('The password inline, as {env: NAME}, or as {file: path}. Prefer env or file: the config may be world-readable.');

export const Smarthost = z.strictObject({
  host: hostName.describe('Host name or IP address of the relay.'),
  port: z.number().int().min(1).max(65535).default(587).describe('TCP port of the relay.'),
  tls: z.enum(['implicit', 'starttls', 'none']).default('starttls')
    .describe('implicit: TLS from the first byte (465); starttls: STARTTLS required (RFC 3207); none: plaintext (only for a relay on loopback).'),
  verify: z.boolean().default(true).describe('Verify the relay\'s certificate (chain and host name).'),
  user: z.string().min(1).optional().describe('AUTH user name (AUTH is used only over TLS).'),
  password: Secret.optional(),
});
export type Smarthost = z.output<typeof Smarthost>;

export const DomainTlsPolicy = z.strictObject({
  mode: z.enum(['none', 'opportunistic', 'require']).optional()
    .describe('none: never STARTTLS; opportunistic: STARTTLS when offered; require: no delivery without TLS.'),
  verify: z.boolean().optional().describe('The certificate must be valid for the MX host name (implies TLS).'),
  mxHosts: z.array(z.string().min(1)).optional().describe('Only MX hosts matching one of these (exact or *.suffix) are used.'),
  fingerprints: z.array(fingerprint).optional().describe('Pin: only certificates with one of these SHA-256 fingerprints are accepted (implies TLS).'),
});
export type DomainTlsPolicy = z.output<typeof DomainTlsPolicy>;

export const OutboundConfig = z.strictObject({
  ehloName: z.string().min(1).optional().describe('Name sent in EHLO. Default: the server hostname.'),
  port: z.number().int().min(1).max(65535).default(25)
    .describe('Port of the MX hosts (RFC 5321 §4.5.4.3: 25). Tests set another so no root is needed.'),
  connectTimeoutMs: z.number().int().min(100).default(30_000).describe('TCP connect timeout per host.'),
  greetingTimeoutMs: z.number().int().min(100).default(300_000).describe('Wait this long for the 220 greeting (RFC 5321 §4.5.3.2.1: 5 minutes).'),
  commandTimeoutMs: z.number().int().min(100).default(300_000).describe('Inactivity timeout for a reply or data (RFC 5321 §4.5.3.2).'),
  maxMxHosts: z.number().int().min(1).max(20).default(5).describe('Try at most this many MX hosts (addresses) per attempt.'),
  concurrency: z.strictObject({
    total: z.number().int().min(1).default(100).describe('Outbound connections open at once, all destinations together.'),
    perDestination: z.number().int().min(1).default(5).describe('Connections open at once to one next hop (a smarthost, or an MX host list).'),
  }).prefault({}).describe('Concurrency caps.'),
  reuse: z.strictObject({
    maxMessages: z.number().int().min(1).default(100).describe('Messages sent over one connection before it is closed.'),
    idleMs: z.number().int().min(0).default(5_000).describe('Close a reusable connection idle this long (0: close after each job).'),
  }).prefault({}).describe('Connection reuse.'),
  tls: z.strictObject({
    mode: z.enum(['none', 'opportunistic', 'require']).default('opportunistic')
      .describe('Default for MX delivery: opportunistic STARTTLS (plaintext only when the server does not offer it).'),
    verify: z.boolean().default(false)
      .describe('Default certificate verification for MX delivery (most MX certificates do not match; MTA-STS or per-domain policy turns it on).'),
    caFile: z.string().min(1).optional()
      .describe('Extra trusted CA certificates (PEM), added to the system ones; for private PKI and tests. Relative to the data directory.'),
    domains: z.record(z.string().min(1), DomainTlsPolicy).default({})
      .describe('Per-domain TLS policy, keyed by recipient domain (lower case); overrides the defaults and MTA-STS.'),
  }).prefault({}).describe('TLS policy.'),
  mtaSts: z.strictObject({
    enabled: z.boolean().default(true).describe('Look up, cache and apply MTA-STS policies (RFC 8461).'),
    httpsPort: z.number().int().min(1).max(65535).default(443)
      .describe('Port of the policy host. Only tests change it (the host is resolved through the server\'s DNS resolver, and its certificate verified with the system CAs plus tls.caFile).'),
    fetchTimeoutMs: z.number().int().min(100).default(10_000).describe('Timeout for the policy fetch (RFC 8461 §3.3 suggests at most a minute).'),
    maxPolicyBytes: z.number().int().min(1024).default(65_536).describe('Largest policy body accepted (RFC 8461 §3.3: 64 KiB).'),
  }).prefault({}).describe('MTA-STS.'),
  smarthost: Smarthost.optional().describe('Send all remote mail through this relay instead of MX (unless a transport says otherwise).'),
  transports: z.record(z.string().min(1), z.union([z.literal('mx'), Smarthost])).default({})
    .describe('Per-domain next hop, keyed by recipient domain ("*.example.com" matches subdomains): "mx" or a smarthost.'),
});

export type OutboundConfig = z.output<typeof OutboundConfig>;
