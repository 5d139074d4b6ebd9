/**
 * Cross-process mailbox notifications: this process's store changes go out on a kv channel, and
 * changes other processes publish come back in as `external` changes (so IMAP sessions here hear
 * of deliveries made by another worker). Changes that were themselves external are not sent on,
 * and a process ignores its own messages (pub/sub echoes them back).
 */
import { randomUUID } from 'node:crypto';
import type { KeyValueStore } from '../kv/kv.ts';
import type { Logger } from '../log.ts';
import type { FolderChange, MailStore } from '../store/mail-store.ts';

export const NOTIFY_CHANNEL = 'pochta:mailbox-changes';
/** Publishes not yet confirmed by the kv; beyond this, changes are dropped (and logged). */
const MAX_IN_FLIGHT = 1000;
/** Largest message accepted from the channel. */
const MAX_MESSAGE = 1024 * 1024;

/** A store that can take news from other processes (plugins/maildir's MaildirStore does). */
export interface ExternalChangeSink {
  notifyExternal(change: FolderChange): Promise<void>;
}

export interface NotifyRelayOptions {
  readonly store: MailStore;
  /** Where received changes go; by default the store itself when it has notifyExternal. */
  readonly sink?: ExternalChangeSink;
  readonly kv: KeyValueStore;
  readonly log: Logger;
  readonly channel?: string;
}

export interface NotifyRelay {
  readonly id: string;
  stop(): Promise<void>;
}

interface Envelope {
  readonly from: string;
  readonly change: FolderChange;
}

const KINDS = new Set(['added', 'flags', 'expunged', 'deleted']);
const isNums = (v: unknown): v is number[] => Array.isArray(v) && v.every((n) => Number.isSafeInteger(n) && (n as number) > 0);

/** Shape check of a change read from the channel; anything else is dropped. */
export function parseEnvelope(text: string): Envelope | undefined {
  if (text.length > MAX_MESSAGE) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const e = v as { from?: unknown; change?: Record<string, unknown> };
  const ch = e?.change;
  if (typeof e?.from !== 'string' || !ch || typeof ch !== 'object') return undefined;
  if (typeof ch.user !== 'string' || typeof ch.folder !== 'string' || !KINDS.has(ch.kind as string)) return undefined;
  if ((ch.kind === 'added' || ch.kind === 'expunged') && !isNums(ch.uids)) return undefined;
  if (ch.kind === 'flags') {
    const ok = Array.isArray(ch.changes) && (ch.changes as unknown[]).every((c) => {
      const f = c as { uid?: unknown; flags?: unknown; modseq?: unknown };
      return Number.isSafeInteger(f?.uid) && Array.isArray(f.flags) && f.flags.every((x) => typeof x === 'string') && Number.isSafeInteger(f.modseq);
    });
    if (!ok) return undefined;
  }
  return e as unknown as Envelope;
}

function hasSink(store: MailStore): store is MailStore & ExternalChangeSink {
  return typeof (store as Partial<ExternalChangeSink>).notifyExternal === 'function';
}

export async function startNotifyRelay(opts: NotifyRelayOptions): Promise<NotifyRelay> {
  const id = randomUUID();
  const channel = opts.channel ?? NOTIFY_CHANNEL;
  const sink = opts.sink ?? (hasSink(opts.store) ? opts.store : undefined);
  let inFlight = 0;
  let stopped = false;
  const unsubscribe = sink
    ? await opts.kv.subscribe(channel, (text) => {
      if (stopped) return;
      const env = parseEnvelope(text);
      if (!env) {
        opts.log.debug({ event: 'imap.relay_bad_message' }, 'dropped a malformed mailbox notification');
        return;
      }
      if (env.from === id) return;
      // `origin` names a view in the other process; it means nothing here.
      const { origin: _origin, ...change } = env.change;
      void sink.notifyExternal({ ...change, external: true }).catch((err: Error) => {
        opts.log.warn({ event: 'imap.relay_apply_failed', err: err.message }, 'could not apply a change from another process');
      });
    })
    : undefined;
  const unwatch = opts.store.watchAll((change) => {
    if (change.external || stopped) return;
    if (inFlight >= MAX_IN_FLIGHT) {
      opts.log.warn({ event: 'imap.relay_overflow', user: change.user, folder: change.folder }, 'too many unsent mailbox notifications; dropped one');
      return;
    }
    inFlight++;
    const { origin: _origin, ...plain } = change;
    opts.kv.publish(channel, JSON.stringify({ from: id, change: plain }))
      .catch((err: Error) => opts.log.warn({ event: 'imap.relay_publish_failed', err: err.message }, 'could not publish a mailbox notification'))
      .finally(() => inFlight--);
  });
  return {
    id,
    async stop() {
      stopped = true;
      unwatch();
      await unsubscribe?.();
    },
  };
}
