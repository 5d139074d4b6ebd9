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
 *
 * Mail the server writes itself (DSNs, reports; core/submit) runs smtp.mailFrom → smtp.rcptTo →
 * smtp.data → smtp.message → smtp.queue on a synthetic session with no socket (no connect, helo,
 * auth or disconnect): `isInternalSession(session)` is true, `session.user` is set and it may relay.
 */
import { REPLY } from './smtp/codes.ts';
import { verdictProblem, type EnvelopeVerdict, type RcptVerdict, type Verdict } from './verdict.ts';
import { NotifyHook, VerdictHook, type HookEnv, type HookSpec } from './hook-runner.ts';
import type { DisconnectInfo, HeloInfo, MailFrom, QueueInfo, Recipient, SmtpSession, SmtpTransaction, SpooledMessage } from './smtp/types.ts';
import type { AuthAttempt, AuthVerdict, Credentials, LoginInfo } from './auth/types.ts';
import type { DeliveryEvent, DeliveryResult, LocalDelivery } from './queue/types.ts';
import type { FlagChange } from './store/mail-store.ts';
import type { OutboundEvent, RemoteJob } from './queue/remote.ts';

/** Where outbound mail for one destination goes next (the `outbound.route` answer). */
export type NextHop =
  | { readonly kind: 'mx' }
  | {
      readonly kind: 'smarthost';
      readonly host: string;
      readonly port: number;
      /** implicit: TLS from the first byte (465); starttls: STARTTLS required; none: plaintext (loopback relays only). */
      readonly tls: 'implicit' | 'starttls' | 'none';
      /** Verify the relay's certificate (chain and host name); default true. */
      readonly verify?: boolean;
      readonly auth?: { readonly user: string; readonly pass: string };
    };

/** The TLS policy of one outbound attempt (the `outbound.tlsPolicy` answer; logged per attempt). */
export interface OutboundTlsPolicy {
  /** none: never STARTTLS; opportunistic: STARTTLS when offered (RFC 3207), plaintext otherwise; require: TLS or no delivery. */
  readonly mode: 'none' | 'opportunistic' | 'require';
  /** The certificate must chain to a trusted CA and name the host connected to. */
  readonly verify: boolean;
  /** MTA-STS (RFC 8461 §4.1) mx patterns: only MX hosts matching one are used. */
  readonly mxPatterns?: readonly string[];
  /** Only these SHA-256 certificate fingerprints (hex, colons optional) are accepted. */
  readonly fingerprints?: readonly string[];
  /** MTA-STS mode testing (RFC 8461 §5): mxPatterns and certificate failures are only reported. */
  readonly testing?: boolean;
  /** Where the policy came from: default, config, mta-sts, mta-sts-testing, requiretls, or a plugin's name. */
  readonly source: string;
}

/** One destination of an outbound job: the recipients of one domain. */
export interface OutboundDestination {
  readonly job: RemoteJob;
  /** The recipient domain (lower case, A-label form as written in the address). */
  readonly domain: string;
  readonly recipients: readonly string[];
}

/** The `outbound.beforeAttempt` answer: go on (no answer), delay (tempfail, retried by the scheduler) or cancel (permfail). */
export type AttemptDecision =
  | { readonly kind: 'proceed' }
  | { readonly kind: 'delay'; readonly reason: string }
  | { readonly kind: 'cancel'; readonly reason: string };

/** mailbox.newMessage: the new UIDs, and whether a client session filed them here (IMAP COPY/MOVE). */
export interface NewMessages {
  readonly uids: readonly number[];
  readonly byClient: boolean;
}

/** Which folder a mailbox.* notification is about (a change made in this process). */
export interface MailboxEvent {
  readonly user: string;
  readonly folder: string;
}

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
const TLS_MODES = new Set(['none', 'opportunistic', 'require']);

function nextHopProblem(v: unknown): string | undefined {
  const h = v as { kind?: unknown; host?: unknown; port?: unknown; tls?: unknown };
  if (h?.kind === 'mx') return undefined;
  if (h?.kind !== 'smarthost') return `route must be {kind:"mx"} or {kind:"smarthost", host, port, tls}, got ${String(h?.kind)}`;
  if (typeof h.host !== 'string' || !h.host) return 'smarthost needs a host';
  if (typeof h.port !== 'number' || !Number.isInteger(h.port) || h.port < 1 || h.port > 65535) return 'smarthost needs a port 1-65535';
  if (h.tls !== 'implicit' && h.tls !== 'starttls' && h.tls !== 'none') return 'smarthost tls must be implicit, starttls or none';
  return undefined;
}

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
    mailbox: Object.freeze({
      /** Messages were added to a folder: delivery, APPEND, COPY or MOVE (the destination side). */
      newMessage: new NotifyHook<MailboxEvent, NewMessages>('mailbox.newMessage', 'Messages were added to a folder (delivery, APPEND, COPY, MOVE into it); fired once, by the process that made the change. `byClient` is true when a client session copied or moved them here (a user filing mail), false for deliveries and APPEND. Notification.', env),
      /** Flags of messages changed (STORE, FETCH setting \\Seen, POP3 RETR). */
      flagsChanged: new NotifyHook<MailboxEvent, { readonly changes: readonly FlagChange[] }>('mailbox.flagsChanged', 'Flags of messages in a folder changed (uid, new flags, modseq each); fired once, by the process that made the change. Notification.', env),
      /** Messages were removed from a folder: EXPUNGE, MOVE out of it, POP3 DELE. */
      expunged: new NotifyHook<MailboxEvent, { readonly uids: readonly number[] }>('mailbox.expunged', 'Messages were removed from a folder (EXPUNGE, MOVE out of it, POP3 DELE); fired once, by the process that made the change. Notification.', env),
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
      /**
       * Choose the next hop for one destination (all the job's recipients of one domain): answer
       * {kind:'mx'} or {kind:'smarthost', host, port, tls, auth?}. Nobody answers: the plugin's
       * transports map, then its smarthost, then MX. A failing tap: tempfail for the destination.
       */
      route: new VerdictHook<OutboundDestination, Record<string, never>, NextHop>({
        name: 'outbound.route',
        doc: 'Choose the next hop for one destination (the job\'s recipients of one domain): answer {kind:"mx"} or {kind:"smarthost", host, port, tls: implicit|starttls|none, auth?: {user, pass}}. Nobody answers: the outbound plugin\'s transports map, then its smarthost, then MX. A failing tap makes the attempt a tempfail.',
        validate: nextHopProblem,
        onError: (kind, plugin) => { throw new Error(`outbound.route: ${plugin} ${kind === 'timeout' ? 'timed out' : 'failed'}`); },
      }, env),
      /**
       * Adjust the TLS policy of one destination: the payload has the policy the outbound plugin
       * worked out (config, MTA-STS, REQUIRETLS); answer a replacement, or nothing to keep it.
       */
      tlsPolicy: new VerdictHook<OutboundDestination, { readonly policy: OutboundTlsPolicy }, OutboundTlsPolicy>({
        name: 'outbound.tlsPolicy',
        doc: 'Adjust the TLS policy of one destination: the payload has the policy worked out from config, MTA-STS and REQUIRETLS ({mode: none|opportunistic|require, verify, mxPatterns?, fingerprints?, source}); answer a replacement or nothing. REQUIRETLS messages keep require+verify whatever the answer. A failing tap makes the attempt a tempfail.',
        validate: (v) => (TLS_MODES.has(String((v as { mode?: unknown }).mode)) && typeof (v as { verify?: unknown }).verify === 'boolean' ? undefined : 'tls policy needs mode none|opportunistic|require and a boolean verify'),
        onError: (kind, plugin) => { throw new Error(`outbound.tlsPolicy: ${plugin} ${kind === 'timeout' ? 'timed out' : 'failed'}`); },
      }, env),
      /**
       * Just before connecting for one destination: answer {kind:'delay', reason} to skip this
       * attempt (a tempfail: the scheduler retries with backoff) or {kind:'cancel', reason} to
       * fail the recipients for good. Nobody answers: proceed.
       */
      beforeAttempt: new VerdictHook<OutboundDestination, { readonly hop: NextHop }, AttemptDecision>({
        name: 'outbound.beforeAttempt',
        doc: 'Just before connecting for one destination (payload: the chosen hop): answer {kind:"delay", reason} to skip this attempt (a tempfail, retried by the scheduler with backoff) or {kind:"cancel", reason} to fail the recipients for good (permfail 5.7.0). Nobody answers: proceed. A failing tap: delay.',
        validate: (v) => (['proceed', 'delay', 'cancel'].includes(String((v as { kind?: unknown }).kind)) ? undefined : 'answer proceed, delay or cancel'),
        onError: (kind, plugin) => ({ kind: 'delay', reason: `${plugin} ${kind === 'timeout' ? 'timed out' : 'failed'}` }),
      }, env),
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
