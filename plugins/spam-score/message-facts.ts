/**
 * What the rules and the classifier read from a message: decoded headers and decoded text, from
 * mailparser's streaming parser fed at most `maxBytes` of the message (attachments past that are
 * not read: spam signs live in the first few hundred kilobytes, and memory stays bounded).
 * A small single-part text message (most mail by count) takes a shortcut with the same result:
 * see light-facts.ts.
 */
import type { Readable } from 'node:stream';
import { MailParser, type AttachmentStream, type MessageText } from 'mailparser';
import { headerProcessor, lightFacts, type ProcessHeaders } from './light-facts.ts';
import type { MessageFacts } from './rules.ts';

/** Messages up to this size are read into memory whole and may take the shortcut. */
const LIGHT_MAX_BYTES = 256 * 1024;

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

/** readFacts' header map from mailparser's processed headers. */
function addHeaders(headers: Map<string, string[]>, h: Map<string, unknown>): void {
  for (const [k, v] of h) {
    const list = headers.get(k) ?? [];
    list.push(...(Array.isArray(v) && k !== 'references' ? v.map(headerText) : [headerText(v)]));
    headers.set(k, list);
  }
}

const clip = (text: string, maxText: number) => (text.length > maxText ? text.slice(0, maxText) : text);

/**
 * The message's first bytes, read whole when it ends within `limit` (plain 'data' events: an
 * async iterator costs more than the shortcut itself). A stream of one in-memory Buffer is not
 * copied. When it did not end, the stream is left paused for the caller to read on.
 */
function readStart(stream: Readable, limit: number): Promise<{ chunks: Buffer[]; length: number; ended: boolean }> {
  const chunks: Buffer[] = [];
  let length = 0;
  return new Promise((resolve, reject) => {
    const stop = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const onData = (data: Buffer | string) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.from(data);
      chunks.push(buf);
      length += buf.length;
      if (length <= limit) return;
      stream.pause();
      stop();
      resolve({ chunks, length, ended: false });
    };
    const onEnd = () => {
      stop();
      resolve({ chunks, length, ended: true });
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}

/** `processHeaders`: a long-lived headerProcessor(), to spare one per message. */
export async function readFacts(stream: Readable, maxBytes: number, maxText = 256 * 1024, processHeaders?: ProcessHeaders): Promise<MessageFacts> {
  let start;
  try {
    start = await readStart(stream, Math.min(maxBytes, LIGHT_MAX_BYTES));
  } catch (err) {
    stream.destroy();
    throw err;
  }
  if (start.ended) {
    stream.destroy();
    const whole = start.chunks.length === 1 ? start.chunks[0] : Buffer.concat(start.chunks, start.length);
    const processor = processHeaders ?? headerProcessor();
    const light = processor ? lightFacts(whole, processor) : undefined;
    if (light) {
      const headers = new Map<string, string[]>();
      addHeaders(headers, light.headers);
      return { headers, text: clip(light.text, maxText) };
    }
  }
  return parseFacts(start.chunks, start.ended ? undefined : stream[Symbol.asyncIterator](), stream, maxBytes, maxText);
}

/** mailparser's streaming parse of the chunks read so far and the rest of the stream. */
async function parseFacts(first: Buffer[], rest: AsyncIterator<unknown> | undefined, stream: Readable, maxBytes: number, maxText: number): Promise<MessageFacts> {
  const parser = new MailParser({ skipHtmlToText: false, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
  const headers = new Map<string, string[]>();
  const texts: string[] = [];
  parser.on('headers', (h: Map<string, unknown>) => addHeaders(headers, h));
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
  async function* chunks(): AsyncGenerator<Buffer> {
    yield* first;
    if (!rest) return;
    for (;;) {
      const r = await rest.next();
      if (r.done) return;
      yield Buffer.isBuffer(r.value) ? r.value : Buffer.from(r.value as string);
    }
  }
  try {
    for await (const buf of chunks()) {
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
  return { headers, text: clip(texts.join('\n'), maxText) };
}

/** Facts through mailparser only (no shortcut); the tests compare the shortcut with it. */
export function mailparserFacts(stream: Readable, maxBytes: number, maxText = 256 * 1024): Promise<MessageFacts> {
  return parseFacts([], stream[Symbol.asyncIterator](), stream, maxBytes, maxText);
}
