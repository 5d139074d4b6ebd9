import { defineService } from '../services.ts';

/**
 * Remote delivery: provided by the outbound plugin (a later issue). While nothing provides it,
 * recipients that need it get 451 4.3.5 at RCPT time instead of being queued to nowhere.
 */
export interface RemoteDelivery {
  /** Take over the remote recipients of a spooled message. */
  enqueue(queueId: string): void;
}

export const REMOTE_DELIVERY = defineService<RemoteDelivery>('remoteDelivery');
