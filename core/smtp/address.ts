import type { MailFrom, Recipient } from './types.ts';

type Args = Record<string, string | boolean>;

interface LibAddress {
  address: string;
  args: false | Record<string, string | boolean | undefined> | undefined;
  dsn?: { notify?: string[]; orcpt?: string } | undefined;
}

function cleanArgs(args: LibAddress['args']): Args {
  const out: Args = {};
  if (!args) return out;
  for (const [k, v] of Object.entries(args)) if (v !== undefined) out[k.toUpperCase()] = v;
  return out;
}

/** MAIL FROM as smtp-server parsed it, with the envelope flags it set. */
export function toMailFrom(addr: LibAddress, envelope: { smtpUtf8?: boolean; bodyType?: string; requireTLS?: boolean; dsn?: { ret?: string | null; envid?: string | null } }): MailFrom {
  const args = cleanArgs(addr.args);
  const size = typeof args.SIZE === 'string' ? Number(args.SIZE) : undefined;
  const rawRet = envelope.dsn?.ret;
  const ret: 'FULL' | 'HDRS' | undefined = rawRet === 'FULL' || rawRet === 'HDRS' ? rawRet : undefined;
  const envid = envelope.dsn?.envid;
  const dsn = ret || envid ? { ...(ret ? { ret } : {}), ...(envid ? { envid } : {}) } : undefined;
  return {
    address: addr.address ?? '',
    args,
    smtpUtf8: Boolean(envelope.smtpUtf8),
    body: envelope.bodyType === '8bitmime' ? '8bitmime' : '7bit',
    ...(size !== undefined && Number.isFinite(size) ? { size } : {}),
    ...(dsn ? { dsn } : {}),
    requireTls: Boolean(envelope.requireTLS),
  };
}

export function toRecipient(addr: LibAddress): Recipient {
  const dsn = addr.dsn && (addr.dsn.notify?.length || addr.dsn.orcpt)
    ? { ...(addr.dsn.notify?.length ? { notify: addr.dsn.notify } : {}), ...(addr.dsn.orcpt ? { orcpt: addr.dsn.orcpt } : {}) }
    : undefined;
  return { address: addr.address, args: cleanArgs(addr.args), ...(dsn ? { dsn } : {}) };
}
