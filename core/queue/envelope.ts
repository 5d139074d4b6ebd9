import type { DeliveryTarget } from '../verdict.ts';
import type { HeaderEdit, MailFrom } from '../smtp/types.ts';

export type RecipientState = 'pending' | 'delivered' | 'failed';

/** One delivery target of a message, with its own state (a message is spooled once). */
export interface SpoolRecipient {
  /** The address the client gave at RCPT TO. */
  address: string;
  dsn?: { notify?: readonly string[]; orcpt?: string };
  target: DeliveryTarget;
  state: RecipientState;
  attempts: number;
  /** Epoch ms; absent = now. */
  nextAttemptAt?: number;
  lastError?: string;
  doneAt?: number;
}

/** What is stored beside each spooled message. No secrets: no passwords, no AUTH data. */
export interface SpoolEnvelope {
  v: 1;
  id: string;
  receivedAt: number;
  size: number;
  mailFrom: MailFrom;
  client: { address: string; helo?: string; user?: string; listener: string; secure: boolean };
  headerEdits: HeaderEdit[];
  quarantine?: string;
  recipients: SpoolRecipient[];
}

export function targetKey(t: DeliveryTarget): string {
  return t.kind === 'local' ? `local:${t.user.toLowerCase()}:${t.folder ?? ''}` : `remote:${t.address.toLowerCase()}`;
}

export function isFinal(r: SpoolRecipient): boolean {
  return r.state === 'delivered' || r.state === 'failed';
}
