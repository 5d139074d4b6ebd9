/**
 * One cheap pass over a message's header section, to tell whether there is anything for mailauth
 * to verify. A message without DKIM-Signature and ARC fields has no signature: RFC 6376 §6.1 makes
 * its result "none" and there is no body hash to compute, so the whole-body pass can be skipped.
 * The header section is split and unfolded the way mailauth's verifier does it (latin1, end at the
 * first LF CR? LF, continuation lines start with white space), so the From addresses DMARC gets
 * and the decision "signed or not" are the same as mailauth's own.
 */
import type { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import { blankLineEnd } from '../../core/mime/header-end.ts';

/** Fields that mean mailauth must run: a DKIM signature, or an ARC set (RFC 8617 §4.1). */
const SIGNATURE_FIELDS = new Set(['dkim-signature', 'arc-seal', 'arc-message-signature', 'arc-authentication-results']);

export interface HeaderField {
  /** Lower-cased name; undefined for a line that starts with ':'. */
  readonly key: string | undefined;
  /** The whole field as received, continuation lines joined with CRLF. */
  readonly line: string;
}

/**
 * The header section's bytes: up to and including the line break that ends it, or the whole
 * message when it has no empty line. Undefined when the section is longer than `maxBytes` (the
 * caller then lets mailauth read it). A stream of one in-memory Buffer is not copied.
 */
export function readHeaderBytes(stream: Readable, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  // The last bytes seen, so an end split across chunks is found.
  let tail = Buffer.alloc(0);
  // Plain 'data' events: an async iterator costs more than the scan itself for a small message.
  return new Promise<Buffer | undefined>((resolve, reject) => {
    const finish = (result: Buffer | undefined) => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
      stream.destroy();
      resolve(result);
    };
    const onData = (data: Buffer | string) => {
      const chunk = Buffer.isBuffer(data) ? data : Buffer.from(data);
      // Not headerEnd: mailauth reads past a blank line at the very start and takes the fields after it.
      const end = blankLineEnd(tail.length ? Buffer.concat([tail, chunk]) : chunk);
      if (end >= 0) {
        const inChunk = end - tail.length;
        if (total + inChunk > maxBytes) return finish(undefined);
        chunks.push(chunk.subarray(0, inChunk));
        return finish(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total + inChunk));
      }
      total += chunk.length;
      if (total > maxBytes) return finish(undefined);
      chunks.push(chunk);
      tail = Buffer.concat([tail, chunk]).subarray(-2);
    };
    const onEnd = () => finish(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total));
    const onError = (err: Error) => {
      stream.off('data', onData);
      stream.destroy();
      reject(err);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}


/** Split a header section into fields (mailauth's rules: a line starting with white space continues the previous one). */
export function splitHeaderFields(header: Buffer): HeaderField[] {
  const rows = header.toString('latin1').replace(/[\r\n]+$/, '').split(/\r?\n/);
  const fields: string[][] = [];
  for (const row of rows) {
    const last = fields[fields.length - 1];
    if (last && /^\s/.test(row)) last.push(row);
    else fields.push([row]);
  }
  return fields.map((parts) => {
    const line = parts.join('\r\n');
    const name = /^[^:]+/.exec(line)?.[0];
    return { key: name === undefined ? undefined : name.trim().toLowerCase(), line };
  });
}

/** True when a field asks for verification (DKIM-Signature or any ARC field). */
export function hasSignatureFields(fields: readonly HeaderField[]): boolean {
  return fields.some((f) => f.key !== undefined && SIGNATURE_FIELDS.has(f.key));
}

/** The RFC5322.From addresses (RFC 7489 §3.1), read as mailauth reads them: groups give no address. */
export function headerFromAddresses(fields: readonly HeaderField[]): string[] {
  const out: string[] = [];
  for (const f of fields) {
    if (f.key !== 'from') continue;
    const colon = f.line.indexOf(':');
    const value = colon >= 0 ? f.line.slice(colon + 1) : f.line;
    for (const a of addressparser(value.trim())) {
      if (a.address) out.push(a.address);
    }
  }
  return out;
}
