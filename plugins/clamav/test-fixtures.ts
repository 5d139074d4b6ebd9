/** Messages for the clamav tests. */

/** A MIME message with `content` as a base64 attachment, the way mail clients send files. */
export function mimeWithAttachment(content: Buffer, filename = 'test.com'): string {
  const b64 = content.toString('base64').replace(/.{1,76}/g, '$&\r\n');
  return [
    'From: a@remote.test', 'To: alice@pochta.test', 'Subject: attachment', 'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"', '', '--b1', 'Content-Type: text/plain', '', 'see attached', '--b1',
    `Content-Type: application/octet-stream; name="${filename}"`, 'Content-Transfer-Encoding: base64',
    `Content-Disposition: attachment; filename="${filename}"`, '', b64, '--b1--', '',
  ].join('\r\n');
}
