/**
 * Helpers for this plugin's tests: a temp root that is removed afterwards, and a file-system port that
 * records every call (and every write and fsync on opened files) so tests can check what touched disk.
 */
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type FsPort, nodeFs } from './fs-port.ts';

export interface FsCall {
  readonly op: string;
  readonly path: string;
  /** For `write` on an opened file: bytes handed to that write. */
  readonly bytes?: number;
}

export function recordingFs(base: FsPort = nodeFs): { fs: FsPort; calls: FsCall[] } {
  const calls: FsCall[] = [];
  const wrapHandle = (handle: object, file: string): object =>
    new Proxy(handle, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (prop === 'write' || prop === 'sync' || prop === 'close' || prop === 'writeFile') {
            const first = args[0];
            const bytes = first instanceof Uint8Array ? (typeof args[2] === 'number' ? args[2] : first.byteLength) : undefined;
            calls.push({ op: `handle.${String(prop)}`, path: file, ...(bytes !== undefined && { bytes }) });
          }
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  const fs = new Proxy(base, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const file = String(args[0]);
        calls.push({ op: String(prop), path: file });
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        return prop === 'open' ? (result as Promise<object>).then((h) => wrapHandle(h, file)) : result;
      };
    },
  });
  return { fs, calls };
}

export async function tempRoot(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'pochta-maildir-'));
  t.after(() => fsp.rm(dir, { recursive: true, force: true, maxRetries: 5 }));
  return dir;
}

export async function streamText(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
