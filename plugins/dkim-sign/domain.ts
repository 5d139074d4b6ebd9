import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser';

/** A domain in the form d= uses: lower case A-labels, no trailing dot. */
export function normalizeDomain(d: string): string {
  const plain = d.trim().replace(/\.$/, '').toLowerCase();
  return domainToASCII(plain) || plain;
}

/** The first address of a From field value (RFC 5322 §3.6.2), or undefined. */
export function fromAddress(value: string): string | undefined {
  const first = addressparser(value, { flatten: true })[0];
  return first && 'address' in first && first.address ? first.address : undefined;
}

/**
 * The domain to sign as: the From address's domain when it has keys, else the nearest parent
 * domain that has (a key for example.com signs mail from news.example.com, which DMARC's relaxed
 * alignment accepts, RFC 7489 §3.1.1). Never walks up to a bare top-level label.
 */
export function signingDomain(from: string | undefined, hasKeys: (domain: string) => boolean): string | undefined {
  const at = from?.lastIndexOf('@') ?? -1;
  if (!from || at < 0) return undefined;
  const labels = normalizeDomain(from.slice(at + 1)).split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const d = labels.slice(i).join('.');
    if (hasKeys(d)) return d;
  }
  return undefined;
}
