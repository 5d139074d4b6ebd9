import { appendFile } from 'node:fs/promises';
import type { DeliveryNotifier, NotifyRequest } from '../notify-port.ts';

/**
 * A DeliveryNotifier for the queue's tests: appends each request (kind, sender, recipients) as a
 * JSON line to a file, or fails while `failing` is set (to prove the scheduler retries).
 */
export class RecordingNotifier implements DeliveryNotifier {
  failing = false;
  constructor(readonly file: string) {}

  async send(req: NotifyRequest): Promise<void> {
    if (this.failing) throw new Error('notifier unavailable (test)');
    const line = { kind: req.kind, queueId: req.envelope.id, sender: req.envelope.mailFrom.address, recipients: req.recipients };
    await appendFile(this.file, JSON.stringify(line) + '\n');
  }
}
