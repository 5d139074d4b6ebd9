/**
 * DATA from smtp-server's stream through the DataGuard into the SpillSink. Done by hand instead of
 * stream.pipeline(): pipeline builds an AbortController per call and aborts it when done, and that
 * abort builds a DOMException with a stack trace (source-mapped under tsx) — measured ~3 % of the
 * server's main-thread CPU per message in the SMTP benchmark. Backpressure: the stream pauses while
 * the sink writes to its file.
 */
import type { Readable } from 'node:stream';
import type { SpillSink } from '../queue/spill-sink.ts';
import type { DataGuard } from './data-guard.ts';

export function receiveData(stream: Readable, guard: DataGuard, sink: SpillSink): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const cleanup = (): void => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // The rest of DATA must still be read, or the session stalls before its reply.
      stream.on('error', () => undefined);
      stream.resume();
      reject(err instanceof Error ? err : new Error(String(err)));
    };
    const onData = (chunk: Buffer): void => {
      if (settled) return;
      const out = guard.accept(chunk);
      const pending = out ? sink.add(out) : undefined;
      if (!pending) return;
      stream.pause();
      pending.then(() => {
        if (!settled) stream.resume();
      }, fail);
    };
    const onEnd = (): void => {
      if (settled) return;
      const tail = guard.finish();
      const pending = tail ? sink.add(tail) : undefined;
      const done = (): void => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve();
      };
      if (pending) pending.then(done, fail);
      else done();
    };
    const onError = (err: Error): void => fail(err);
    stream.on('data', onData);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
}
