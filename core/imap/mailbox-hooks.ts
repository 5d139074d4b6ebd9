/**
 * Store changes → the `mailbox.*` notification hooks, so plugins can react to new, re-flagged and
 * removed messages (the spam-score plugin learns from moves into and out of Junk). Changes learnt
 * from another process (`external`) are skipped: that process fired the hooks already.
 */
import type { Hooks } from '../hooks.ts';
import type { Logger } from '../log.ts';
import type { FolderChange } from '../store/mail-store.ts';

export async function fireMailboxHooks(hooks: Hooks, change: FolderChange, log: Logger): Promise<void> {
  if (change.external) return;
  const subject = { user: change.user, folder: change.folder };
  const trace = { log };
  switch (change.kind) {
    case 'added':
      // The store stamps a copy or move with the view that asked (plugins/maildir message-copy.ts);
      // deliveries and APPEND carry no origin.
      return hooks.mailbox.newMessage.call(subject, { uids: change.uids, byClient: change.origin !== undefined }, trace);
    case 'flags':
      return hooks.mailbox.flagsChanged.call(subject, { changes: change.changes }, trace);
    case 'expunged':
      return hooks.mailbox.expunged.call(subject, { uids: change.uids }, trace);
    case 'deleted':
      return undefined;
  }
}
