import type { RemoteOutcome } from '../../core/queue/remote.ts';
import type { Reply } from '../../core/verdict.ts';

/** "550 5.1.1 No such user" (possibly multi-line) → Reply; undefined when it is not a reply. */
export function parseReply(text: string | undefined): Reply | undefined {
  if (!text) return undefined;
  const lines = text.split(/\r?\n/).filter(Boolean);
  const first = /^([2-5]\d\d)[ -]?(.*)$/.exec(lines[0] ?? '');
  if (!first) return undefined;
  const code = Number(first[1]);
  const body = lines.map((l) => l.replace(/^\d{3}[ -]?/, '')).join(' ').trim();
  const enh = /^([245]\.\d{1,3}\.\d{1,3})\s+(.*)$/.exec(body);
  return enh ? { code, enhanced: enh[1], text: enh[2] } : { code, text: body };
}

/** The outcome a remote reply means: 2xx delivered, 4xx tempfail, 5xx permfail. */
export function outcomeFromReply(reply: Reply, mx: string, what: string): RemoteOutcome {
  const reason = `${what}: ${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ''} ${reply.text}`;
  if (reply.code < 300) return { kind: 'delivered', reply, mx };
  return reply.code >= 500 ? { kind: 'permfail', reply, mx, reason } : { kind: 'tempfail', reply, mx, reason };
}

/** A failure decided here (no remote reply): the reply the bounce will quote. */
export function localFailure(kind: 'tempfail' | 'permfail', code: number, enhanced: string, text: string, mx?: string): RemoteOutcome {
  const reply: Reply = { code, enhanced, text };
  return { kind, reply, reason: text, ...(mx ? { mx } : {}) };
}
