import addressparser from 'nodemailer/lib/addressparser';

/** Every mailbox address in the From fields (RFC 5322 §3.6.2 allows several, and groups are flattened). */
export function fromAddresses(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const v of values) {
    for (const a of addressparser(v, { flatten: true })) if ('address' in a && a.address) out.push(a.address);
  }
  return out;
}
