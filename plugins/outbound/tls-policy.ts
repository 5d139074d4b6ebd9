import type { NextHop, OutboundTlsPolicy } from '../../core/hooks.ts';
import type { OutboundConfig } from './config.ts';
import type { StsLookup } from './mta-sts-fetch.ts';

/**
 * The TLS policy for one destination, before the outbound.tlsPolicy hook: the defaults, replaced
 * by MTA-STS (enforce: only matching MX hosts, TLS with a verified certificate; testing: the same
 * checks, reported only), then by the per-domain config entry. Pure.
 */
export function basePolicy(cfg: OutboundConfig['tls'], domain: string, hop: NextHop, sts: StsLookup): OutboundTlsPolicy {
  if (hop.kind === 'smarthost') {
    return { mode: hop.tls === 'none' ? 'none' : 'require', verify: hop.tls !== 'none' && (hop.verify ?? true), source: 'smarthost' };
  }
  let policy: OutboundTlsPolicy = { mode: cfg.mode, verify: cfg.verify, source: 'default' };
  if (sts.kind === 'policy' && sts.policy.mode === 'enforce') {
    policy = { mode: 'require', verify: true, mxPatterns: sts.policy.mx, source: 'mta-sts' };
  } else if (sts.kind === 'policy' && sts.policy.mode === 'testing') {
    policy = { ...policy, mxPatterns: sts.policy.mx, testing: true, source: 'mta-sts-testing' };
  }
  const own = cfg.domains[domain];
  if (own) {
    const verify = own.verify ?? (own.fingerprints ? false : policy.verify);
    const mode = own.mode ?? (verify || own.fingerprints ? 'require' : policy.mode);
    policy = {
      mode, verify,
      ...(own.mxHosts ? { mxPatterns: own.mxHosts.map((h) => h.toLowerCase()) } : policy.mxPatterns ? { mxPatterns: policy.mxPatterns } : {}),
      ...(own.fingerprints ? { fingerprints: own.fingerprints } : {}),
      source: 'config',
    };
  }
  return policy;
}

/**
 * RFC 8689 §4.1: a REQUIRETLS message goes only over TLS with a verified certificate, whatever a
 * policy or plugin said. MTA-STS testing is dropped (the checks must hold, not be reported).
 */
export function applyRequireTls(policy: OutboundTlsPolicy, requireTls: boolean): OutboundTlsPolicy {
  if (!requireTls) return policy;
  const { testing: _testing, ...rest } = policy;
  return { ...rest, mode: 'require', verify: policy.fingerprints ? policy.verify : true, source: `${policy.source}+requiretls` };
}

/**
 * What makes two policies the same way of talking to a next hop: every field the connection is
 * checked against (describePolicy only counts pinned fingerprints). For keys that decide which
 * domains share a transaction and which pooled connection may be reused.
 */
export function policyKey(p: OutboundTlsPolicy): string {
  const fps = p.fingerprints ? [...p.fingerprints].map((f) => f.replace(/:/g, '').toUpperCase()).sort().join(',') : '';
  const mx = p.mxPatterns ? [...p.mxPatterns].map((m) => m.toLowerCase()).sort().join(',') : '';
  return `${p.mode}|${p.verify}|${p.testing ? 1 : 0}|${mx}|${fps}|${p.source}`;
}

/** A short text for the per-attempt log line. */
export function describePolicy(p: OutboundTlsPolicy): string {
  const parts = [p.mode, p.verify ? 'verify' : 'no-verify'];
  if (p.mxPatterns) parts.push(`mx=${p.mxPatterns.join(',')}`);
  if (p.fingerprints) parts.push(`pinned=${p.fingerprints.length}`);
  if (p.testing) parts.push('testing');
  return `${parts.join(' ')} (${p.source})`;
}
