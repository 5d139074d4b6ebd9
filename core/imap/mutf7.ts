/**
 * Modified UTF-7 for mailbox names (RFC 3501 §5.1.3): the store keeps UTF-8 names; IMAP clients
 * without UTF8=ACCEPT see and send them encoded.
 */

export function encodeMutf7(name: string): string {
  let out = '';
  let pending = '';
  const flush = () => {
    if (!pending) return;
    const buf = Buffer.alloc(pending.length * 2);
    for (let i = 0; i < pending.length; i++) buf.writeUInt16BE(pending.charCodeAt(i), i * 2);
    out += '&' + buf.toString('base64').replace(/=+$/, '').replace(/\//g, ',') + '-';
    pending = '';
  };
  for (const ch of name) {
    const c = ch.charCodeAt(0);
    if (ch.length === 1 && c >= 0x20 && c <= 0x7e) {
      flush();
      out += ch === '&' ? '&-' : ch;
    } else pending += ch;
  }
  flush();
  return out;
}

/** Decodes a client's name; null when it is not valid modified UTF-7. */
export function decodeMutf7(name: string): string | null {
  let out = '';
  let i = 0;
  while (i < name.length) {
    const ch = name[i];
    const c = ch.charCodeAt(0);
    if (c < 0x20 || c > 0x7e) return null;
    if (ch !== '&') {
      out += ch;
      i++;
      continue;
    }
    const end = name.indexOf('-', i + 1);
    if (end < 0) return null;
    const b64 = name.slice(i + 1, end);
    if (b64 === '') out += '&';
    else {
      if (!/^[A-Za-z0-9+,]+$/.test(b64)) return null;
      const buf = Buffer.from(b64.replace(/,/g, '/'), 'base64');
      if (buf.length % 2) return null;
      let s = '';
      for (let j = 0; j < buf.length; j += 2) s += String.fromCharCode(buf.readUInt16BE(j));
      out += s;
    }
    i = end + 1;
  }
  return out;
}
