/**
 * Errors a MailStore throws. The codes are the IMAP response codes of RFC 5530 §3 so the IMAP layer can
 * answer `NO [CODE] text` without a translation table; POP3 and delivery map them to their own replies.
 */
export type MailStoreErrorCode =
  | 'NONEXISTENT' // the folder or message does not exist (IMAP adds [TRYCREATE] for APPEND/COPY, RFC 3501 §6.3.11)
  | 'ALREADYEXISTS' // CREATE or RENAME onto an existing name
  | 'CANNOT' // the request breaks an invariant: invalid folder name or user id, deleting INBOX, …
  | 'NOPERM' // e.g. a change through a read-only (EXAMINE) view
  | 'LIMIT' // a store limit: too many keywords for the folder, name too long
  | 'INUSE' // the folder lock could not be taken in time (another process holds it)
  | 'EXPUNGEISSUE' // the message was expunged under the caller (RFC 5530 §3, RFC 2180 §4.1)
  | 'SERVERBUG'; // the on-disk state is inconsistent in a way the store cannot repair

export class MailStoreError extends Error {
  readonly code: MailStoreErrorCode;

  constructor(code: MailStoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MailStoreError';
    this.code = code;
  }
}

export function isMailStoreError(err: unknown, code?: MailStoreErrorCode): err is MailStoreError {
  return err instanceof MailStoreError && (code === undefined || err.code === code);
}
