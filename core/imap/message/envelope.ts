/** RFC 3501 §7.4.2 ENVELOPE from a message entity's kept header fields. */
import { stringText } from '../encoder.ts';
import type { ImapValue } from '../types.ts';
import { parseAddressList } from './address.ts';
import { type HeaderField, fieldValue } from './header.ts';

function nstring(v: string | undefined): ImapValue {
  return v === undefined || v === '' ? null : v;
}

function addresses(fields: readonly HeaderField[], name: string): ImapValue {
  const raw = fieldValue(fields, name);
  if (raw === undefined) return null;
  const list = parseAddressList(raw);
  if (list.length === 0) return null;
  return list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}

export function envelopeOf(fields: readonly HeaderField[]): ImapValue {
  const from = addresses(fields, 'from');
  const sender = addresses(fields, 'sender');
  const replyTo = addresses(fields, 'reply-to');
  return [
    nstring(fieldValue(fields, 'date')),
    nstring(fieldValue(fields, 'subject')),
    from,
    // §7.4.2: the server defaults sender and reply-to to from.
    sender ?? from,
    replyTo ?? from,
    addresses(fields, 'to'),
    addresses(fields, 'cc'),
    addresses(fields, 'bcc'),
    nstring(fieldValue(fields, 'in-reply-to')),
    nstring(fieldValue(fields, 'message-id')),
  ];
}

const nilOr = (v: string | null): string => (v === null ? 'NIL' : stringText(v));

/** The address list as wire text, or undefined when the field is absent or holds no address. */
function addressesText(fields: readonly HeaderField[], name: string): string | undefined {
  const raw = fieldValue(fields, name);
  if (raw === undefined) return undefined;
  const list = parseAddressList(raw);
  if (list.length === 0) return undefined;
  let out = '(';
  for (let i = 0; i < list.length; i++) {
    const a = list[i];
    if (!a) continue;
    out += `${i ? ' ' : ''}(${nilOr(a.name)} ${nilOr(a.adl)} ${nilOr(a.mailbox)} ${nilOr(a.host)})`;
  }
  return out + ')';
}

function nstringText(v: string | undefined): string {
  return v === undefined || v === '' ? 'NIL' : stringText(v);
}

/**
 * `ENVELOPE (…)` as sent (UTF-8 on the wire): the same bytes as encoding envelopeOf(fields), written
 * straight to text (FETCH ENVELOPE of a cold folder builds one per message; no intermediate lists).
 */
export function envelopeTextOf(fields: readonly HeaderField[]): string {
  const from = addressesText(fields, 'from') ?? 'NIL';
  const sender = addressesText(fields, 'sender');
  const replyTo = addressesText(fields, 'reply-to');
  const text = `ENVELOPE (${nstringText(fieldValue(fields, 'date'))} ${nstringText(fieldValue(fields, 'subject'))} ${from} ${sender ?? from} ${replyTo ?? from} ${
    addressesText(fields, 'to') ?? 'NIL'} ${addressesText(fields, 'cc') ?? 'NIL'} ${addressesText(fields, 'bcc') ?? 'NIL'} ${
    nstringText(fieldValue(fields, 'in-reply-to'))} ${nstringText(fieldValue(fields, 'message-id'))})`;
  return text;
}
