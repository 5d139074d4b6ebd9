import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { SpoolEnvelope } from '../queue/envelope.ts';

/** Read a stream to one buffer (tests only: the messages are small). */
export async function collect(r: Readable): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of r as AsyncIterable<Buffer>) out.push(c);
  return Buffer.concat(out);
}

/**
 * The parts of a multipart body split on its boundary, each as { headers, body } (raw text).
 * Used to read the message/delivery-status part exactly as written.
 */
export function mimeParts(raw: string, boundary: string): Array<{ headers: string; body: string }> {
  const pieces = raw.split(`\r\n--${boundary}`);
  return pieces.slice(1).filter((p) => !p.startsWith('--')).map((p) => {
    const text = p.replace(/^\r\n/, '');
    const end = text.indexOf('\r\n\r\n');
    return { headers: text.slice(0, end), body: text.slice(end + 4) };
  });
}

/** RFC 3464 §2.1 blocks: per-message fields, then one block per recipient; folded lines unfolded. */
export function statusBlocks(body: string): Array<Record<string, string>> {
  return body.trim().split(/\r\n\r\n/).map((block) => {
    const fields: Record<string, string> = {};
    for (const line of block.replace(/\r\n[ \t]+/g, ' ').split('\r\n')) {
      const i = line.indexOf(':');
      fields[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
    }
    return fields;
  });
}

/**
 * A spooled original (body file + envelope), as the queue would hand it over: the body file in
 * `dir` (the caller removes it), or else in a fresh temp directory.
 */
export async function spooledOriginal(opts: { dir?: string; id?: string; sender: string; raw: string; ret?: 'FULL' | 'HDRS'; envid?: string; recipients: Array<{ address: string; notify?: string[]; orcpt?: string }>; headerEdits?: SpoolEnvelope['headerEdits'] }): Promise<{ envelope: SpoolEnvelope; bodyPath: string }> {
  const dir = opts.dir ?? (await mkdtemp(path.join(tmpdir(), 'pochta-dsn-')));
  const id = opts.id ?? '00MWZH0000000000ORIG';
  const bodyPath = path.join(dir, `${id}.msg`);
  await writeFile(bodyPath, opts.raw);
  const dsn = opts.ret || opts.envid ? { ...(opts.ret ? { ret: opts.ret } : {}), ...(opts.envid ? { envid: opts.envid } : {}) } : undefined;
  const envelope: SpoolEnvelope = {
    v: 1,
    id,
    receivedAt: Date.UTC(2026, 10, 27, 10, 0, 0),
    size: Buffer.byteLength(opts.raw),
    mailFrom: { address: opts.sender, args: {}, smtpUtf8: false, body: '7bit', ...(dsn ? { dsn } : {}), requireTls: false },
    client: { address: '192.0.2.1', listener: 'submission', secure: true },
    headerEdits: opts.headerEdits ?? [],
    recipients: opts.recipients.map((r) => ({
      address: r.address,
      ...(r.notify || r.orcpt ? { dsn: { ...(r.notify ? { notify: r.notify } : {}), ...(r.orcpt ? { orcpt: r.orcpt } : {}) } } : {}),
      target: { kind: 'remote' as const, address: r.address },
      state: 'failed' as const,
      attempts: 3,
    })),
  };
  return { envelope, bodyPath };
}
