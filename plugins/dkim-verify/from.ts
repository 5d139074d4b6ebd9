import addressparser from 'nodemailer/lib/addressparser';

/** The RFC5322.From addresses of a header section (DMARC's identifier, RFC 7489 §3.1). */
export function fromAddresses(headers: ReadonlyArray<{ name: string; value: string }>): string[] {
  return headers
    .filter((h) => h.name.toLowerCase() === 'from')
    .flatMap((h) => addressparser(h.value, { flatten: true }))
    .map((a) => a.address)
    .filter((a): a is string => Boolean(a));
}
