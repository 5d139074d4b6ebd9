/**
 * Who may relay: the pure decision, no hooks. Relaying means accepting mail for domains that are
 * not local (RFC 5321 §3.6.1, §7.1): only trusted networks and authenticated users may, so the
 * server is never an open relay.
 */
import { findNetwork, parseCidr, type Network } from './cidr.ts';
import type { RelayAclConfig } from './config.ts';

export interface RelayPolicy {
  readonly networks: readonly Network[];
  readonly authenticated: boolean;
}

/** Compile the validated config; throws on a bad network (the schema has already refused those). */
export function compilePolicy(config: Readonly<RelayAclConfig>): RelayPolicy {
  const networks = config.networks.map((text) => {
    const r = parseCidr(text);
    if (!r.ok) throw new Error(`networks: ${r.error}`);
    return r.network;
  });
  return { networks, authenticated: config.authenticated };
}

/** The relay reason for a client address (`network 10.0.0.0/8`), or undefined when untrusted. */
export function networkReason(policy: RelayPolicy, remoteAddress: string): string | undefined {
  const n = findNetwork(policy.networks, remoteAddress);
  return n ? `network ${n.text}` : undefined;
}

/** The relay reason for an authenticated session (`authenticated alice@example.test`), or undefined. */
export function userReason(policy: RelayPolicy, user: string | undefined): string | undefined {
  return policy.authenticated && user ? `authenticated ${user}` : undefined;
}
