/**
 * The limits, their keys and their replies: pure data and decisions, no hooks.
 * Codes: 421 closes the connection (RFC 5321 §3.8); 451 4.7.1 asks for a later retry of a
 * message or recipient; enhanced codes from RFC 3463 §3.8 (4.7.0/4.7.1 security or policy).
 */
import { findNetwork, formatIp, parseCidr, parseIp, type Network } from '../relay-acl/cidr.ts';
import type { Reply } from '../../core/verdict.ts';
import type { RateLimitConfig } from './config.ts';

export type WindowName = 'connectionsPerIp' | 'messagesPerIp' | 'recipientsPerIp' | 'messagesPerSender' | 'recipientsPerSender' | 'messagesPerRecipient';

const what: Record<WindowName | 'concurrentConnectionsPerIp', string> = {
  concurrentConnectionsPerIp: 'Too many connections from your address',
  connectionsPerIp: 'Too many connections from your address',
  messagesPerIp: 'Too many messages from your address',
  recipientsPerIp: 'Too many recipients from your address',
  messagesPerSender: 'Too many messages from this sender',
  recipientsPerSender: 'Too many recipients from this sender',
  messagesPerRecipient: 'Too many messages for this recipient',
};

/** The replies of one limit: connection limits close the connection, the others refuse one command. */
export function repliesFor(name: WindowName | 'concurrentConnectionsPerIp'): { reject: Reply; tempfail: Reply } {
  const connection = name === 'concurrentConnectionsPerIp' || name === 'connectionsPerIp';
  return connection
    ? { tempfail: { code: 421, enhanced: '4.7.0', text: `${what[name]}, try again later` }, reject: { code: 554, enhanced: '5.7.1', text: what[name] } }
    : { tempfail: { code: 451, enhanced: '4.7.1', text: `${what[name]}, try again later` }, reject: { code: 550, enhanced: '5.7.1', text: what[name] } };
}

export interface SkipLists {
  readonly networks: readonly Network[];
  readonly senders: readonly string[];
}

export function compileSkipLists(cfg: Readonly<RateLimitConfig>): SkipLists {
  const networks = cfg.skipNetworks.map((text) => {
    const r = parseCidr(text);
    if (!r.ok) throw new Error(`skipNetworks: ${r.error}`);
    return r.network;
  });
  return { networks, senders: cfg.skipSenders };
}

export function networkSkipped(lists: SkipLists, remoteAddress: string): boolean {
  return findNetwork(lists.networks, remoteAddress) !== undefined;
}

export function senderSkipped(lists: SkipLists, sender: string): boolean {
  const s = sender.toLowerCase();
  const domain = s.slice(s.lastIndexOf('@') + 1);
  return lists.senders.some((x) => (x.startsWith('@') ? s.includes('@') && domain === x.slice(1) : x === s));
}

/** The reason text recorded as evidence: `4/3 per 60s`. */
export function overText(count: number, limit: number, windowMs?: number): string {
  return windowMs ? `${count}/${limit} per ${Math.round(windowMs / 1000)}s` : `${count}/${limit} open`;
}

/** The client's address as a key: IPv4-mapped IPv6 folded to IPv4, IPv6 in canonical form. */
export function clientId(remoteAddress: string): string {
  const ip = parseIp(remoteAddress);
  return ip ? formatIp(ip) : remoteAddress;
}
