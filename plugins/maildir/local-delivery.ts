/**
 * One local delivery (the delivery.local hook's job) into the mail store: added headers + the spooled
 * bytes (minus removed headers), streamed. A folder that cannot take it (invalid name, missing while
 * autocreate is off) falls back to INBOX, as an MDA must not lose mail over a folder (Dovecot's LDA
 * does the same). Only a user id the store cannot hold is a permanent failure.
 */
import { composeBuffer, composeMessage } from '../../core/queue/compose.ts';
import type { DeliveryResult, LocalDelivery } from '../../core/queue/types.ts';
import { isMailStoreError } from '../../core/store/errors.ts';
import { INBOX, type MailStore, type MessageSource } from '../../core/store/mail-store.ts';
import { canonicalFolderName } from './folder-name.ts';
import { isErrno } from './fs-port.ts';

export interface LocalDeliveryOptions {
  readonly autocreateFolders: boolean;
  /** Told when the mail went to INBOX instead of the folder asked for. */
  readonly onFallback?: (folder: string, reason: string) => void;
}

/**
 * The trace fields a final delivery adds on top: Return-Path (RFC 5321 §4.4: the envelope sender,
 * <> for bounces) and Delivered-To (the mailbox it was delivered to; loop detection for forwards).
 */
export function deliveryTrace(job: LocalDelivery): Buffer {
  const clean = (s: string) => s.replace(/[\r\n]/g, '');
  return Buffer.from(`Return-Path: <${clean(job.mailFrom)}>\r\nDelivered-To: ${clean(job.user)}\r\n`, 'utf8');
}

export async function deliverLocal(store: MailStore, job: LocalDelivery, options: LocalDeliveryOptions): Promise<DeliveryResult> {
  const prefix = Buffer.concat([deliveryTrace(job), job.headerPrefix]);
  // A fresh source per attempt: a stream can be read once.
  // A message in memory is composed in memory (the store writes it in one go); one in a file is
  // streamed, through the header filter when headers are to be removed.
  const source = (): MessageSource =>
    job.body.kind === 'memory'
      ? composeBuffer(prefix, job.body.bytes, job.removeHeaders)
      : job.removeHeaders.length > 0 ? { stream: composeMessage(prefix, job.body, job.removeHeaders) } : { prefix, path: job.body.path };
  let folder = job.folder ?? INBOX;
  try {
    folder = canonicalFolderName(folder);
  } catch (err) {
    options.onFallback?.(folder, (err as Error).message);
    folder = INBOX;
  }
  try {
    let result;
    try {
      result = await store.append(job.user, folder, source(), { create: options.autocreateFolders });
    } catch (err) {
      if (folder === INBOX || !isMailStoreError(err, 'NONEXISTENT')) throw err;
      options.onFallback?.(folder, 'folder does not exist');
      folder = INBOX;
      result = await store.append(job.user, folder, source());
    }
    return { kind: 'delivered', detail: `${folder} uid ${result.uid}` };
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    // An id the store refuses will not get better with retries.
    if (isMailStoreError(err, 'CANNOT')) return { kind: 'permfail', reason };
    if (isErrno(err, 'ENOSPC', 'EDQUOT')) return { kind: 'tempfail', reason: 'mail storage is full' };
    return { kind: 'tempfail', reason };
  }
}
