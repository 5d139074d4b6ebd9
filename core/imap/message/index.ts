/**
 * The IMAP message layer: pure logic the session calls for FETCH (ENVELOPE, BODYSTRUCTURE,
 * BODY[section]) and SEARCH. Nothing here knows about sockets or the session's state.
 * (Rough first version: the contract is final, the implementations are being filled in.)
 */
import type { Readable } from 'node:stream';
import type { FolderView } from '../../store/mail-store.ts';
import type { ImapValue, SectionSpec, Partial, SearchKey } from '../types.ts';

/** Parsed, cached structure of one stored message (memory bounded: headers and part offsets only). */
export interface MessageStructure {
  readonly size: number;
}

/** Cache of structures, owned by whoever creates it (the server instance; no module state). */
export class StructureCache {
  readonly maxEntries: number;
  constructor(opts?: { maxEntries?: number }) {
    this.maxEntries = opts?.maxEntries ?? 10_000;
  }
  get(view: FolderView, uid: number): Promise<MessageStructure> {
    void view;
    void uid;
    return Promise.reject(new Error('not implemented yet'));
  }
}

/** RFC 3501 §7.4.2 ENVELOPE. */
export function envelope(s: MessageStructure): ImapValue {
  void s;
  throw new Error('not implemented yet');
}

/** BODY (extensible false) / BODYSTRUCTURE (true), RFC 3501 §7.4.2. */
export function bodyStructure(s: MessageStructure, extensible: boolean): ImapValue {
  void s;
  void extensible;
  throw new Error('not implemented yet');
}

/** The bytes of BODY[section]<partial> (RFC822.HEADER = {part:[], text:'HEADER'}, RFC822.TEXT = {part:[], text:'TEXT'}). */
export function readSection(
  view: FolderView,
  uid: number,
  s: MessageStructure,
  section: SectionSpec,
  partial?: Partial,
): Promise<Buffer | Readable> {
  void view;
  void uid;
  void s;
  void section;
  void partial;
  return Promise.reject(new Error('not implemented yet'));
}

/** UIDs (ascending) matching the program. `seqOf` maps a uid to its sequence number in this session. */
export function search(
  view: FolderView,
  key: SearchKey,
  ctx: {
    uids: readonly number[];
    seqOf(uid: number): number;
    isRecent(uid: number): boolean;
    cache: StructureCache;
    charset?: string;
  },
): Promise<number[]> {
  void view;
  void key;
  void ctx;
  return Promise.reject(new Error('not implemented yet'));
}
