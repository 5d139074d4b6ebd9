/**
 * Error stacks that point into the TypeScript sources, with the mapping paid only for frames that
 * have a source map. Under tsx, Node formats every stack through its own source-map code, and Node
 * reads the stack of every socket error (streams' destroy touches err.stack): a client that drops
 * its connection after QUIT (ECONNRESET) cost tens of µs of the event loop for a stack nobody prints.
 * Frames of Node's internals, the whole stack of such an error, are left as V8 wrote them.
 */
import { findSourceMap, type SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

type Frame = NodeJS.CallSite;

function header(err: unknown): string {
  try {
    return Error.prototype.toString.call(err);
  } catch {
    return '<error>';
  }
}

/** A prepareStackTrace function; its source maps are looked up once per file. */
export function sourceMappedStackTrace(): (err: Error, frames: Frame[]) => string {
  const maps = new Map<string, SourceMap | null>();
  const mapOf = (file: string): SourceMap | null => {
    let m = maps.get(file);
    if (m === undefined) {
      m = findSourceMap(file) ?? null;
      maps.set(file, m);
    }
    return m;
  };
  const line = (f: Frame): string => {
    // V8's own rendering of the frame ("fn (file:line:col)", async/new prefixes): only the location changes.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- CallSite has its own toString
    const text = f.toString();
    const file = f.getFileName();
    if (!file || file.startsWith('node:')) return text;
    const map = mapOf(file);
    const row = f.getLineNumber();
    const col = f.getColumnNumber();
    if (!map || row === null || col === null) return text;
    const e = map.findEntry(row - 1, col - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number };
    if (e.originalSource === undefined || e.originalLine === undefined || e.originalColumn === undefined) return text;
    const src = e.originalSource.startsWith('file://') ? fileURLToPath(e.originalSource) : e.originalSource;
    return text.replace(`${file}:${row}:${col}`, `${src}:${e.originalLine + 1}:${e.originalColumn + 1}`);
  };
  return (err, frames) => {
    let out = header(err);
    for (const f of frames) out += `\n    at ${line(f)}`;
    return out;
  };
}

/**
 * Install it in place of node's default (a function named ErrorPrepareStackTrace since node 20.x,
 * undefined before), but not over one that something else installed. Returns whether it did.
 */
export function installStackTrace(): boolean {
  const current: unknown = Reflect.get(Error, 'prepareStackTrace');
  if (current !== undefined && !(typeof current === 'function' && current.name === 'ErrorPrepareStackTrace')) return false;
  Error.prepareStackTrace = sourceMappedStackTrace();
  return true;
}
