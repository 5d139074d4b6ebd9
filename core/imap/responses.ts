/**
 * Small response-text helpers shared by the commands.
 */
import { encodeAstring } from './encoder.ts';
import { encodeMutf7 } from './mutf7.ts';

/** The system flags a mailbox supports (RFC 3501 §2.3.2). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'];

/** A flag list as response text; \Recent is session state, added here (RFC 3501 §2.3.2). */
export function flagList(flags: readonly string[], recent: boolean): string {
  return '(' + [...flags, ...(recent ? ['\\Recent'] : [])].join(' ') + ')';
}

/** A mailbox name as it goes on the wire: modified UTF-7, then atom / quoted / literal. */
export function mailboxName(name: string): string {
  return encodeAstring(encodeMutf7(name)).toString('latin1');
}
