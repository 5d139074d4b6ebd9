/**
 * Types shared by the IMAP protocol layer (parser, session, commands) and the message layer
 * (core/imap/message: ENVELOPE, BODYSTRUCTURE, BODY[section], SEARCH evaluation).
 * RFC 3501 §6.4.4 (SEARCH), §6.4.5 (FETCH), §7.4.2 (response data), RFC 7162 (MODSEQ).
 */

/**
 * A value in a response, as the encoder writes it (RFC 3501 §4):
 * null → NIL; number/bigint → number; string → quoted (or a literal when it must be);
 * Buffer → literal; { atom } → written as is (flags, keywords, section names); array → parenthesised list.
 */
export type ImapValue = null | number | bigint | string | Buffer | { readonly atom: string } | readonly ImapValue[];

/** One range of a sequence set; `'*'` is the largest number in use (RFC 3501 §9 seq-number). */
export interface SeqRange {
  readonly from: number | '*';
  readonly to: number | '*';
}
export type SequenceSet = readonly SeqRange[];

/** BODY[section] (RFC 3501 §6.4.5). `part` [] is the whole message; [1, 2] is part 1.2. */
export interface SectionSpec {
  readonly part: readonly number[];
  readonly text?: 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  /** Field names for HEADER.FIELDS / HEADER.FIELDS.NOT, as the client sent them. */
  readonly fields?: readonly string[];
}

/** `<start.length>` of a partial fetch. */
export interface Partial {
  readonly start: number;
  readonly length: number;
}

/** A parsed SEARCH program (RFC 3501 §6.4.4 and RFC 7162 §3.1.5). Top level is an implicit AND. */
export type SearchKey =
  | { readonly op: 'all' }
  | { readonly op: 'and'; readonly keys: readonly SearchKey[] }
  | { readonly op: 'or'; readonly a: SearchKey; readonly b: SearchKey }
  | { readonly op: 'not'; readonly key: SearchKey }
  | { readonly op: 'seq'; readonly set: SequenceSet }
  | { readonly op: 'uid'; readonly set: SequenceSet }
  /** A system flag (`\Seen` …) or keyword is (set: true) or is not (set: false) on the message. */
  | { readonly op: 'flag'; readonly flag: string; readonly set: boolean }
  /** RECENT / OLD (set false); NEW is and(recent, not seen). */
  | { readonly op: 'recent'; readonly set: boolean }
  /** BEFORE/ON/SINCE use the internal date; SENTBEFORE/SENTON/SENTSINCE the Date: header. `date` is YYYY-MM-DD. */
  | { readonly op: 'date'; readonly field: 'internal' | 'sent'; readonly cmp: 'before' | 'on' | 'since'; readonly date: string }
  | { readonly op: 'size'; readonly cmp: 'larger' | 'smaller'; readonly n: number }
  /** HEADER name value; FROM/TO/CC/BCC/SUBJECT are header keys too. Case-insensitive substring; empty value = field present. */
  | { readonly op: 'header'; readonly name: string; readonly value: string }
  /** BODY (the body only) or TEXT (header and body), case-insensitive substring over decoded text. */
  | { readonly op: 'text'; readonly where: 'body' | 'text'; readonly value: string }
  | { readonly op: 'modseq'; readonly n: number };
