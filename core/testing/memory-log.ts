import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log.ts';

/** A real pino logger whose JSON lines are collected in memory, for assertions on logs. */
export function memoryLogger(level = 'debug'): { log: Logger; lines: Array<Record<string, any>> } {
  const lines: Array<Record<string, any>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, any>);
      cb();
    },
  });
  return { log: createLogger({ level, destination: sink }), lines };
}
