import { z } from 'zod';

/** RFC 6376 §5.4.1's recommended fields, plus the MIME ones that change how a body is read. */
export const DEFAULT_HEADERS = [
  'From', 'Reply-To', 'Subject', 'Date', 'To', 'Cc', 'Resent-Date', 'Resent-From', 'Resent-To', 'Resent-Cc',
  'In-Reply-To', 'References', 'List-Id', 'List-Help', 'List-Unsubscribe', 'List-Unsubscribe-Post', 'List-Subscribe',
  'List-Post', 'List-Owner', 'List-Archive', 'Message-ID', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Sender',
];

/** Fields a forwarder must not be able to add a second copy of (RFC 6376 §8.15). */
export const DEFAULT_OVERSIGN = ['From', 'Reply-To', 'Subject', 'To', 'Cc', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type'];

const label = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

const KeyConfig = z.strictObject({
  selector: z.string().refine((s) => s.split('.').every((l) => label.test(l)), 'a selector is DNS labels (letters, digits, dashes)')
    .describe('The selector (s=): the key is published at <selector>._domainkey.<domain>.'),
  keyFile: z.string().optional()
    .describe('PEM private key (PKCS#8 or PKCS#1), relative to the data directory. Default: dkim/<domain>.<selector>.key, where `pochta dkim keygen` writes it.'),
  algorithm: z.enum(['rsa-sha256', 'ed25519-sha256']).default('rsa-sha256')
    .describe('rsa-sha256 (RSA keys of 1024 bits or more; 2048 recommended, RFC 8301) or ed25519-sha256 (RFC 8463).'),
});

export const DkimSignConfig = z.strictObject({
  domains: z.record(z.string().min(1), z.array(KeyConfig).min(1)).default({})
    .describe('Signing domain → its keys. Two keys (say RSA and Ed25519) make two signatures (dual signing, RFC 8463 §1). A From domain without keys is signed with its nearest parent domain that has some.'),
  headers: z.array(z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/)).min(1).default(DEFAULT_HEADERS)
    .describe('Header fields to sign, every instance present (h=). From is always signed (RFC 6376 §5.4).'),
  oversign: z.array(z.string().regex(/^[\x21-\x39\x3b-\x7e]+$/)).default(DEFAULT_OVERSIGN)
    .describe('Header fields listed in h= once more than present, so a copy added later (a second From:) breaks the signature (RFC 6376 §8.15).'),
  expireSeconds: z.number().int().min(3600).optional()
    .describe('Signature lifetime in seconds (x= tag). Absent: no expiry.'),
  signInternal: z.boolean().default(true)
    .describe('Sign mail the server writes itself (delivery status notifications, reports) when its From domain has keys.'),
});

export type DkimSignConfig = z.output<typeof DkimSignConfig>;
