/**
 * What the rules and the classifier read from a message: decoded headers and decoded text, from
 * mailparser's streaming parser fed at most `maxBytes` of the message (attachments past that are
 * not read: spam signs live in the first few hundred kilobytes, and memory stays bounded).
 */
import type { Readable } from 'node:stream';
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import type { MessageFacts } from './rules.ts';

function headerText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v instanceof Date) return v.toUTCString();
  if (Array.isArray(v)) return v.map(headerText).join(', ');
  if (v && typeof v === 'object') {
    const o = v as { text?: unknown; value?: unknown };
    if (typeof o.text === 'string') return o.text;
    if (typeof o.value === 'string') return o.value;
  }
  return v === undefined || v === null ? '' : JSON.stringify(v);
}

export async function readFacts(stream: Readable, maxBytes: number, maxText = 256 * 1024): Promise<MessageFacts> {
  const parser = new MailParser({ skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const headers = new Map<string, string[]>();
  const texts: string[] = [];
  parser.on('headers', (h: Map<string, unknown>) => {
    for (const [k, v] of h) {
      const list = headers.get(k) ?? [];
      list.push(...(Array.isArray(v) && k !== 'references' ? v.map(headerText) : [headerText(v)]));
      headers.set(k, list);
    }
  });
  parser.on('data', (d: AttachmentStream | MessageText) => {
    if (d.type === 'attachment') {
      d.content.resume();
      d.content.on('end', () => d.release?.());
      return;
    }
    if (d.text) texts.push(d.text);
    else if (typeof d.html === 'string') texts.push(d.html.replace(/<[^>]*>/g, ' '));
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.once('end', () => resolve());
    parser.once('error', reject);
  });
  let seen = 0;
  try {
    for await (const chunk of stream) {
      const buf = chunk as Buffer;
      const room = maxBytes - seen;
      if (room <= 0) break;
      const part = buf.length > room ? buf.subarray(0, room) : buf;
      seen += part.length;
      if (!parser.write(part)) await new Promise((r) => parser.once('drain', r));
    }
  } finally {
    stream.destroy();
  }
  parser.end();
  await done;
  const text = texts.join('\n');
  return { headers, text: text.length > maxText ? text.slice(0, maxText) : text };
}
