/**
 * Where a user's Maildir lives: `<root>/<domain>/<localpart>/`. The user id comes from the user
 * directory or the SMTP envelope, so it is checked here: nothing it contains may name a path outside
 * the root (design.md, Security: no path a client can name is read outside the store).
 */
import path from 'node:path';
import { MailStoreError } from '../../core/store/errors.ts';
import type { UserId } from '../../core/store/mail-store.ts';

// A host name (RFC 1035 §2.3.1 LDH labels; `_` tolerated for internal names); IDNs arrive as A-labels.
const DOMAIN = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
// Control characters, path separators; a leading dot would make `.`/`..` or a hidden entry.
const BAD_LOCAL = /[\u0000-\u001f\u007f/\\]|^\./;

/** RFC 5321 §4.5.3.1.1 / §4.5.3.1.2 size limits. */
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;

/** The user's Maildir root. Domains are case-insensitive and lower-cased; the local part is kept as given. */
export function userDir(root: string, user: UserId): string {
  const at = user.lastIndexOf('@');
  const local = at > 0 ? user.slice(0, at) : '';
  const domain = user.slice(at + 1).toLowerCase();
  if (
    at <= 0 ||
    Buffer.byteLength(local) > MAX_LOCAL ||
    BAD_LOCAL.test(local) ||
    domain.length > MAX_DOMAIN ||
    !DOMAIN.test(domain)
  ) {
    throw new MailStoreError('CANNOT', `invalid user id ${JSON.stringify(user)}`);
  }
  const base = path.resolve(root);
  const dir = path.join(base, domain, local);
  // Belt and braces: the checks above already exclude every way out of the root.
  if (path.dirname(path.dirname(dir)) !== base) throw new MailStoreError('CANNOT', 'user id escapes the store root');
  return dir;
}
