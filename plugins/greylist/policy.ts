/**
 * Who is never greylisted (RFC 6647 §4.4, §4.6): pure decision over the session and the
 * compiled allow lists.
 */
import { findNetwork, parseCidr, type Network } from '../relay-acl/cidr.ts';
import type { GreylistConfig } from './config.ts';
import { domainOf, inDomains } from './triplet.ts';

export interface AllowLists {
  readonly networks: readonly Network[];
  readonly clientDomains: readonly string[];
  readonly senderDomains: readonly string[];
  readonly recipients: readonly string[];
}

export function compileAllowLists(cfg: Readonly<GreylistConfig>): AllowLists {
  const networks = cfg.networks.map((text) => {
    const r = parseCidr(text);
    if (!r.ok) throw new Error(`networks: ${r.error}`);
    return r.network;
  });
  return { networks, clientDomains: cfg.clientDomains, senderDomains: cfg.senderDomains, recipients: cfg.recipients };
}

export interface SkipFacts {
  readonly remoteAddress: string;
  readonly user?: string | undefined;
  readonly relayAllowed: boolean;
  readonly clientHostname?: string | undefined;
  readonly sender: string;
  readonly recipient: string;
  /** A DNS allow list (DNSWL) listed the client; the zone name. */
  readonly dnswl?: string | undefined;
}

/** Why this recipient is not greylisted, or undefined when it is subject to greylisting. */
export function skipReason(lists: AllowLists, f: SkipFacts): string | undefined {
  // Authenticated users and clients allowed to relay are our own (RFC 6647 §4.6).
  if (f.user) return 'authenticated';
  if (f.relayAllowed) return 'relay client';
  const net = findNetwork(lists.networks, f.remoteAddress);
  if (net) return `network ${net.text}`;
  if (f.dnswl) return `dnswl ${f.dnswl}`;
  const senderDomain = domainOf(f.sender);
  if (inDomains(senderDomain, lists.senderDomains)) return `sender domain ${senderDomain}`;
  if (inDomains(f.clientHostname, lists.clientDomains)) return `client ${f.clientHostname}`;
  const rcpt = f.recipient.toLowerCase();
  if (lists.recipients.some((r) => (r.startsWith('@') ? domainOf(rcpt) === r.slice(1) : r === rcpt))) return 'recipient opted out';
  return undefined;
}
