/**
 * Every hook in Pochta, typed and documented in one place. Plugins receive a tap-only view of this
 * object (see plugin.ts); the core calls the hooks.
 *
 * Verdict hooks run their taps in order; the first tap that answers ends the chain, `undefined`
 * (or `null`) means "no opinion". Notification hooks run every tap and ignore failures.
 *
 * Lifecycle of an SMTP connection (RFC 5321 §3):
 *
 *   smtp.connect → smtp.helo → [auth.verify → auth.login] → smtp.mailFrom → smtp.rcptTo × n
 *     → smtp.data → (body spooled) → smtp.message → smtp.queue → 250 → delivery.local × n
 *   smtp.disconnect at the end, whatever happened.
 */
import { REPLY } from './smtp/codes.ts';
import { verdictProblem, type EnvelopeVerdict, type RcptVerdict, type Verdict } from './verdict.ts';
import { NotifyHook, VerdictHook, type HookEnv, type HookSpec } from './hook-runner.ts';
import type { DisconnectInfo, HeloInfo, MailFrom, QueueInfo, Recipient, SmtpSession, SmtpTransaction, SpooledMessage } from './smtp/types.ts';
import type { AuthAttempt, AuthVerdict, Credentials, LoginInfo } from './auth/types.ts';
import type { DeliveryEvent, DeliveryResult, LocalDelivery } from './queue/types.ts';
import type { OutboundEvent } from './queue/remote.ts';

export interface ServerInfo {
  readonly hostname: string;
  readonly dataDir: string;
}

const ENVELOPE = new Set(['accept', 'reject', 'tempfail']);
const MESSAGE = new Set(['accept', 'reject', 'tempfail', 'quarantine', 'discard']);

function smtpSpec<R>(name: string, doc: string, allowed: ReadonlySet<string>): HookSpec<R> {
  return {
    name,
    doc,
    validate: (v) => verdictProblem(v, allowed),
    onError: (kind) => ({ kind: 'tempfail', reply: kind === 'timeout' ? REPLY.hookTimeout : REPLY.tempLocal }) as R,
  };
}

function rcptProblem(v: unknown): string | undefined {
  const p = verdictProblem(v, ENVELOPE);
  if (p) return p;
  const targets = (v as { targets?: unknown }).targets;
  if (targets === undefined) return undefined;
  if (!Array.isArray(targets) || targets.length === 0) return 'targets must be a non-empty array';
  for (const t of targets) {
    if (t?.kind === 'local' && typeof t.user === 'string' && t.user) continue;
    if (t?.kind === 'remote' && typeof t.address === 'string' && t.address) continue;
    return 'each target must be {kind:"local", user} or {kind:"remote", address}';
  }
  return undefined;
}

const AUTH_KINDS = new Set(['ok', 'fail', 'tempfail']);
const DELIVERY_KINDS = new Set(['delivered', 'tempfail', 'permfail']);

export function createHooks(env: HookEnv) {
  return Object.freeze({
    server: Object.freeze({
      /** After every plugin registered and every listener is up. */
      ready: new NotifyHook<ServerInfo, Record<string, never>>('server.ready', 'After every plugin registered and every listener is up. Notification.', env),
      /** Before the server stops (listeners already closed to new connections). */
      stopping: new NotifyHook<ServerInfo, Record<string, never>>('server.stopping', 'Before the server stops. Notification.', env),
    }),
    smtp: Object.freeze({
      /**
       * A client connected, before the 220 greeting. Answer reject/tempfail to refuse the
       * connection (the reply is sent, then the connection closes). Nobody answers: accept.
       */
      connect: new VerdictHook<SmtpSession, Record<string, never>, EnvelopeVerdict>(
        smtpSpec('smtp.connect', 'A client connected, before the 220 greeting. Answer reject or tempfail to refuse the connection (the reply is sent, then the connection closes). Nobody answers: accept. Next: smtp.helo.', ENVELOPE), env),
      /** HELO or EHLO with a syntactically valid host. Nobody answers: accept. Next: auth or mailFrom. */
      helo: new VerdictHook<SmtpSession, HeloInfo, EnvelopeVerdict>(
        smtpSpec('smtp.helo', 'HELO or EHLO with a syntactically valid host (the host is also on session.helo). Answer reject/tempfail to refuse it. Nobody answers: accept. Next: auth.verify (submission) or smtp.mailFrom.', ENVELOPE), env),
      /** MAIL FROM. The transaction exists from here. Nobody answers: accept. */
      mailFrom: new VerdictHook<SmtpTransaction, MailFrom, EnvelopeVerdict>(
        smtpSpec('smtp.mailFrom', 'MAIL FROM; the transaction (tx) exists from here, with its queue id. Nobody answers: accept. Next: smtp.rcptTo.', ENVELOPE), env),
      /**
       * RCPT TO. Default-deny: nobody accepts → 550 5.7.1 unless the session may relay
       * (then the recipient is a remote target). An accept may carry `targets`
       * (where the mail goes: local users, remote addresses).
       */
      rcptTo: new VerdictHook<SmtpTransaction, Recipient, RcptVerdict>(
        { ...smtpSpec<RcptVerdict>('smtp.rcptTo', 'RCPT TO, once per recipient. Default-deny: nobody accepts → 550 5.7.1 unless session.relay.allowed (then the recipient is a remote target). An accept may carry targets (local users, remote addresses). Next: smtp.data.', ENVELOPE), validate: rcptProblem }, env),
      /** DATA, before the 354. Nobody answers: accept. */
      data: new VerdictHook<SmtpTransaction, Record<string, never>, EnvelopeVerdict>(
        smtpSpec('smtp.data', 'DATA, before the 354 go-ahead. Nobody answers: accept. Next: the body is streamed to the spool, then smtp.message.', ENVELOPE), env),
      /**
       * The body is on disk (not yet fsynced for delivery). Checks read `tx.message`, record
       * evidence, add headers. Answer reject/tempfail, quarantine (deliver to Junk) or discard.
       * Nobody answers: accept. Next: queue.
       */
      message: new VerdictHook<SmtpTransaction, SpooledMessage, Verdict>(
        smtpSpec('smtp.message', 'The body is on disk (tx.message: size, headers(), stream()). Checks record evidence and add headers; answer reject/tempfail, quarantine (deliver to Junk) or discard. Nobody answers: accept. Next: smtp.queue.', MESSAGE), env),
      /**
       * The message passed its checks. A tap may take it over (hand it to another system) by
       * answering accept, or refuse it. Nobody answers: the core spool makes it durable and
       * delivers it. Next: 250, then delivery.
       */
      queue: new VerdictHook<SmtpTransaction, QueueInfo, EnvelopeVerdict>(
        smtpSpec('smtp.queue', 'The message passed its checks. A tap may take it over (answer accept: it is then the plugin\'s) or refuse it. Nobody answers: the core spool fsyncs it and answers 250. Next: delivery.local per local recipient.', ENVELOPE), env),
      /** The connection closed, whatever the reason. */
      disconnect: new NotifyHook<SmtpSession, DisconnectInfo>('smtp.disconnect', 'The connection closed, whatever the reason. Notification: every tap runs.', env),
    }),
    auth: Object.freeze({
      /**
       * Check credentials: shared by SMTP AUTH, IMAP and POP3. Answer ok with the user id, fail,
       * or tempfail. Nobody answers: fail (535 5.7.8 on SMTP).
       */
      verify: new VerdictHook<AuthAttempt, Credentials, AuthVerdict>({
        name: 'auth.verify',
        doc: 'Check a username and password; shared by SMTP AUTH, IMAP and POP3. Answer ok with the user id, fail, or tempfail. Nobody answers: fail (535 5.7.8 on SMTP). Next: auth.login or auth.failed.',
        validate: (v) => {
          const k = (v as { kind?: string }).kind;
          if (!k || !AUTH_KINDS.has(k)) return `auth verdict kind must be ok, fail or tempfail, got ${String(k)}`;
          if (k === 'ok' && typeof (v as { user?: unknown }).user !== 'string') return 'ok needs a user id';
          return undefined;
        },
        onError: () => ({ kind: 'tempfail', reply: REPLY.authTempfail, reason: 'auth plugin failed' }),
      }, env),
      /** A login succeeded (any protocol). */
      login: new NotifyHook<AuthAttempt, LoginInfo>('auth.login', 'A login succeeded (any protocol). Notification.', env),
      /** A login failed (any protocol). */
      failed: new NotifyHook<AuthAttempt, { readonly username: string }>('auth.failed', 'A login failed (any protocol). Notification.', env),
    }),
    delivery: Object.freeze({
      /**
       * Deliver to one local recipient. The first tap that answers wins. Nobody answers:
       * tempfail (retried later).
       */
      local: new VerdictHook<LocalDelivery, Record<string, never>, DeliveryResult>({
        name: 'delivery.local',
        doc: 'Deliver one spooled message to one local recipient (user, folder). The first tap that answers delivered/tempfail/permfail wins. Nobody answers: tempfail (retried with backoff).',
        validate: (v) => {
          const k = (v as { kind?: string }).kind;
          return k && DELIVERY_KINDS.has(k) ? undefined : `delivery result kind must be delivered, tempfail or permfail, got ${String(k)}`;
        },
        onError: (kind, plugin) => ({ kind: 'tempfail', reason: `${plugin} ${kind === 'timeout' ? 'timed out' : 'failed'}` }),
      }, env),
      /** A recipient was delivered. */
      delivered: new NotifyHook<DeliveryEvent, Record<string, never>>('delivery.delivered', 'A recipient was delivered. Notification.', env),
      /** A delivery attempt failed temporarily and will be retried. */
      deferred: new NotifyHook<DeliveryEvent, Record<string, never>>('delivery.deferred', 'A delivery attempt failed temporarily and will be retried. Notification.', env),
      /** A recipient failed permanently. */
      failed: new NotifyHook<DeliveryEvent, Record<string, never>>('delivery.failed', 'A recipient failed permanently (or ran out of retries). Notification.', env),
    }),
    outbound: Object.freeze({
      /** A remote recipient was accepted by the next hop. */
      delivered: new NotifyHook<OutboundEvent, Record<string, never>>('outbound.delivered', 'A remote recipient was accepted by the next hop (reply and MX host in the event). Notification.', env),
      /** A remote delivery attempt failed temporarily; the recipient stays queued. */
      deferred: new NotifyHook<OutboundEvent, Record<string, never>>('outbound.deferred', 'A remote delivery attempt failed temporarily; the recipient stays queued until nextAttemptAt. Notification.', env),
      /** A remote recipient failed for good (5xx, or out of retries); a bounce goes to the sender unless NOTIFY says otherwise. */
      bounced: new NotifyHook<OutboundEvent, Record<string, never>>('outbound.bounced', 'A remote recipient failed for good (5xx, or out of retries); a bounce goes to the sender unless NOTIFY=NEVER or the sender is null. Notification.', env),
    }),
  });
}

export type Hooks = ReturnType<typeof createHooks>;

/** Every hook, flattened with its dotted name: for `pochta hooks` and docs generation. */
export function listHooks(hooks: Hooks): Array<VerdictHook<any, any, any> | NotifyHook<any, any>> {
  const out: Array<VerdictHook<any, any, any> | NotifyHook<any, any>> = [];
  for (const group of Object.values(hooks)) for (const h of Object.values(group)) out.push(h as VerdictHook<any, any, any>);
  return out;
}
