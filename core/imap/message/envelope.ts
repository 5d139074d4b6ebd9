/** RFC 3501 §7.4.2 ENVELOPE from a message entity's kept header fields. */
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
