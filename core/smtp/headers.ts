import { open } from 'node:fs/promises';

/** The most header bytes read to parse a message's header section; the rest is ignored. */
const MAX_HEADER_BYTES = 256 * 1024;

/** Parse an RFC 5322 header section (unfolding continuation lines). Stops at the first empty line. */
export function parseHeaderSection(text: string): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  const end = text.search(/\r?\n\r?\n/);
  const section = end >= 0 ? text.slice(0, end) : text;
  for (const line of section.split(/\r?\n/)) {
    if (/^[ \t]/.test(line) && out.length) {
      out[out.length - 1].value += ' ' + line.trim();
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    out.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return out;
}

/** Read and parse the header section of a message file. */
export async function readHeaderSection(path: string): Promise<Array<{ name: string; value: string }>> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(MAX_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return parseHeaderSection(buf.subarray(0, bytesRead).toString('utf8'));
  } finally {
    await fh.close();
  }
}
