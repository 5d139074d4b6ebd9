import { readFile } from 'node:fs/promises';
import type { NextHop } from '../../core/hooks.ts';
import type { OutboundConfig, Smarthost } from './config.ts';

/** The configured transport for a domain: exact key first, then "*.suffix" (longest first). */
export function transportFor(transports: OutboundConfig['transports'], domain: string): 'mx' | Smarthost | undefined {
  const exact = transports[domain];
  if (exact) return exact;
  const wild = Object.keys(transports)
    .filter((k) => k.startsWith('*.') && domain.endsWith(k.slice(1)))
    .sort((a, b) => b.length - a.length)[0];
  return wild ? transports[wild] : undefined;
}

/** Resolve a configured secret (inline, env, file). Throws with the source named, never the value. */
export async function readSecret(secret: NonNullable<Smarthost['password']>, resolvePath: (p: string) => string): Promise<string> {
  if (typeof secret === 'string') return secret;
  if ('env' in secret) {
    const v = process.env[secret.env];
    if (!v) throw new Error(`environment variable ${secret.env} is not set`);
    return v;
  }
  const text = await readFile(resolvePath(secret.file), 'utf8').catch(() => {
    throw new Error(`cannot read the password file ${secret.file}`);
  });
  return text.replace(/\r?\n$/, '');
}

/** A configured smarthost as a next hop, its password resolved. */
export async function smarthostHop(s: Smarthost, resolvePath: (p: string) => string): Promise<NextHop> {
  const auth = s.user && s.password ? { user: s.user, pass: await readSecret(s.password, resolvePath) } : undefined;
  return { kind: 'smarthost', host: s.host, port: s.port, tls: s.tls, verify: s.verify, ...(auth ? { auth } : {}) };
}

/** Config routing when no plugin answered outbound.route: transports map, then smarthost, then MX. */
export async function configuredHop(cfg: OutboundConfig, domain: string, resolvePath: (p: string) => string): Promise<NextHop> {
  const t = transportFor(cfg.transports, domain);
  if (t === 'mx') return { kind: 'mx' };
  if (t) return smarthostHop(t, resolvePath);
  if (cfg.smarthost) return smarthostHop(cfg.smarthost, resolvePath);
  return { kind: 'mx' };
}
