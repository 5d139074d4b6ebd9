/**
 * Pochta's public API for plugin authors: `import { definePlugin, REPLY, reject } from 'pochta'`.
 */
export { definePlugin } from './plugin.ts';
export type { PluginDefinition, PluginContext, PluginHooks, PluginServices, PluginCliContext, Dispose, TapView } from './plugin.ts';
export { accept, reject, tempfail, quarantine, discard, acceptRcpt, STAGE } from './verdict.ts';
export type { Verdict, EnvelopeVerdict, RcptVerdict, RcptAccept, Reply, DeliveryTarget, Accept, Reject, Tempfail, Quarantine, Discard } from './verdict.ts';
export { REPLY, replyText, withText } from './smtp/codes.ts';
export type { SmtpSession, SmtpTransaction, MailFrom, Recipient, AcceptedRecipient, Evidence, SpooledMessage, HeloInfo, ListenerInfo, ListenerKind } from './smtp/types.ts';
export type { TapContext, TapOptions } from './hook-runner.ts';
export { defineSlot } from './slots.ts';
export type { Slot } from './slots.ts';
export { defineService } from './services.ts';
export type { ServiceKey } from './services.ts';
export { USER_DIRECTORY } from './auth/user-directory.ts';
export type { UserDirectory, UserRecord } from './auth/user-directory.ts';
export type { AuthAttempt, AuthVerdict, Credentials } from './auth/types.ts';
export type { LocalDelivery, DeliveryResult } from './queue/types.ts';
export { composeMessage } from './queue/compose.ts';
export type { KeyValueStore } from './kv/kv.ts';
export type { DnsResolver } from './dns.ts';
export { DnsError, dnsErrorCode, isNegative, isTimeout } from './dns/errors.ts';
export type { Clock } from './clock.ts';
export { createServer, PochtaServer } from './server.ts';
export { isInternalSession, INTERNAL_LISTENER } from './submit/internal-session.ts';
export { SubmitError } from './submit/types.ts';
export type { SubmitRequest, SubmitResult, SubmitRecipient } from './submit/types.ts';
