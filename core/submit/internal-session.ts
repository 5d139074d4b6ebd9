import type { Logger } from '../log.ts';
import { Session } from '../smtp/session.ts';
import type { ListenerInfo, SmtpSession } from '../smtp/types.ts';

/** The listener name of the synthetic session that carries mail the server writes itself. */
export const INTERNAL_LISTENER = 'internal';

const INTERNAL_INFO: ListenerInfo = Object.freeze({ name: INTERNAL_LISTENER, kind: 'submission', host: '127.0.0.1', port: 0 });

/**
 * True for mail the server submits itself (DSNs, reports). Plugins that sign treat it like an
 * authenticated submission; plugins that limit users leave it alone.
 */
export function isInternalSession(s: SmtpSession): boolean {
  return s.listener.name === INTERNAL_LISTENER && s.remotePort === 0;
}

/**
 * A session standing for the server itself: authenticated as `user`, allowed to relay, from
 * the loopback address. It never had a socket, so connect/helo/auth hooks do not run for it.
 */
export function internalSession(id: string, user: string, hostname: string, log: Logger, now: number): Session {
  const s = new Session({
    id,
    listener: INTERNAL_INFO,
    remoteAddress: '127.0.0.1',
    remotePort: 0,
    localAddress: '127.0.0.1',
    localPort: 0,
    secure: true,
    log,
    openedAt: now,
  });
  s.user = user;
  s.helo = { verb: 'EHLO', host: hostname };
  s.allowRelay('internal submission');
  return s;
}
