import type { Readable } from 'node:stream';

/**
 * Whether the message has any byte above 127 (RFC 6152: a BODY=8BITMIME message may have none,
 * and then goes to a 7-bit server as it is). Reads the stream to the first such byte.
 */
export async function hasEightBit(stream: Readable): Promise<boolean> {
  try {
    for await (const chunk of stream) {
      const b = chunk as Buffer;
      for (let i = 0; i < b.length; i++) if (b[i] > 127) return true;
    }
    return false;
  } finally {
    stream.destroy();
  }
}
