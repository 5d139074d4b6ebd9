import type { Cursor } from '../parser/cursor.ts';
import type { ImapSession, ImapState } from '../session.ts';

/** What a command answers; `undefined` means it wrote its tagged response itself. */
export interface Outcome {
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly text: string;
}

export type Handler = (s: ImapSession, tag: string, c: Cursor, uid: boolean) => Promise<Outcome | undefined>;

export interface CommandSpec {
  readonly states: readonly ImapState[];
  readonly run: Handler;
  /** EXPUNGE responses may follow it (RFC 3501 §7.4.1: not after FETCH, STORE, SEARCH). */
  readonly expungeOk?: boolean;
}

export const ANY: readonly ImapState[] = ['notauth', 'auth', 'selected'];
export const NOTAUTH: readonly ImapState[] = ['notauth'];
export const AUTHED: readonly ImapState[] = ['auth', 'selected'];
export const SELECTED: readonly ImapState[] = ['selected'];

export const ok = (text: string): Outcome => ({ status: 'OK', text });
export const no = (text: string): Outcome => ({ status: 'NO', text });
export const bad = (text: string): Outcome => ({ status: 'BAD', text });
