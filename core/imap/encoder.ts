/**
 * ImapValue → response bytes (RFC 3501 §4): NIL, numbers, quoted strings when safe, literals
 * otherwise, atoms as they are, parenthesised lists.
 */
import type { ImapValue } from './types.ts';

/** Strings longer than this go as literals even when they could be quoted. */
const MAX_QUOTED = 1024;

/** Quoted is possible: printable 7-bit text (no CR, LF, NUL). A regular expression: about twice as fast as a charCodeAt loop. */
const QUOTABLE = /^[\x20-\x7e]*$/;

function quotable(s: string): boolean {
  return s.length <= MAX_QUOTED && QUOTABLE.test(s);
}

export function quote(s: string): string {
  // Most values (addresses, subjects) need no escape: skip the regex for them.
  if (!s.includes('"') && !s.includes('\\')) return '"' + s + '"';
  return '"' + s.replace(/[\\"]/g, (m) => '\\' + m) + '"';
}

/** A string as quoted or literal text. */
export function encodeString(s: string): Buffer {
  if (quotable(s)) return Buffer.from(quote(s), 'latin1');
  const bytes = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from(`{${bytes.length}}\r\n`, 'latin1'), bytes]);
}

/** astring for names (mailbox names in LIST): an atom when it is one, else quoted or literal. */
export function encodeAstring(s: string): Buffer {
  if (s.length && /^[\x21-\x7e]+$/.test(s) && !/[(){%*"\\\]]/.test(s) && s.toUpperCase() !== 'NIL') return Buffer.from(s, 'latin1');
  return encodeString(s);
}

/**
 * Encodes into one string (UTF-8 on the wire) and one Buffer at the end, after `prefix` (ASCII text
 * such as `ENVELOPE `): a whole-folder FETCH
 * ENVELOPE encodes tens of thousands of values, and a Buffer per token dominated its cost.
 * Binary literals and non-ASCII atoms (latin1 bytes) break the string and go as their own Buffers.
 */
export function encode(v: ImapValue, prefix = ''): Buffer {
  const acc: Acc = { text: prefix, bufs: undefined };
  write(v, acc);
  if (!acc.bufs) return Buffer.from(acc.text, 'utf8');
  if (acc.text) acc.bufs.push(Buffer.from(acc.text, 'utf8'));
  return acc.bufs.length === 1 ? acc.bufs[0] : Buffer.concat(acc.bufs);
}

interface Acc {
  text: string;
  bufs: Buffer[] | undefined;
}

function pushBuffer(acc: Acc, b: Buffer): void {
  acc.bufs ??= [];
  if (acc.text) acc.bufs.push(Buffer.from(acc.text, 'utf8'));
  acc.text = '';
  acc.bufs.push(b);
}

/** A string's wire text: quoted, or a literal `{n}` CRLF with the text (n counts UTF-8 bytes). */
export function stringText(s: string): string {
  if (quotable(s)) return quote(s);
  return `{${Buffer.byteLength(s, 'utf8')}}\r\n${s}`;
}

function write(v: ImapValue, acc: Acc): void {
  if (v === null) acc.text += 'NIL';
  else if (typeof v === 'number' || typeof v === 'bigint') acc.text += String(v);
  else if (typeof v === 'string') acc.text += stringText(v);
  else if (Buffer.isBuffer(v)) {
    acc.text += `{${v.length}}\r\n`;
    pushBuffer(acc, v);
  } else if (Array.isArray(v)) {
    acc.text += '(';
    const list = v as readonly ImapValue[];
    for (let i = 0; i < list.length; i++) {
      if (i) acc.text += ' ';
      write(list[i], acc);
    }
    acc.text += ')';
  } else {
    const atom = (v as { atom: string }).atom;
    // Atoms went out as latin1 bytes; ASCII is the same in UTF-8, anything else keeps its latin1 bytes.
    if (/^[\x00-\x7f]*$/.test(atom)) acc.text += atom;
    else pushBuffer(acc, Buffer.from(atom, 'latin1'));
  }
}
