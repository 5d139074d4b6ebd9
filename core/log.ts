import { pino, destination, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Human-readable output; defaults to on when stdout is a terminal. */
  pretty?: boolean;
  /** Write here instead of stdout (tests collect lines). */
  destination?: NodeJS.WritableStream;
}

/** Never log a secret, whatever a plugin passes in. */
const REDACT = ['password', 'pass', 'secret', '*.password', '*.pass', '*.secret', 'credentials', '*.credentials', 'auth.password'];

export function createLogger(opts: LogOptions = {}): Logger {
  const base: LoggerOptions = {
    level: opts.level ?? 'info',
    redact: { paths: REDACT, censor: '[redacted]' },
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (opts.destination) return pino(base, opts.destination as any);
  const pretty = opts.pretty ?? Boolean(process.stdout.isTTY);
  if (pretty) {
    return pino({ ...base, transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } } });
  }
  // Asynchronous writes: lines logged while a write is in flight go out together in the next
  // one (one syscall for many lines under load, no delay when idle). Flushed on exit.
  return pino(base, destination({ dest: 1, sync: false }));
}

const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace']);

/**
 * A logger whose pino child (`make`) is made only when a line at an enabled level is written, or
 * anything else is asked of it. A child costs more than most callers' one line, and most debug
 * lines are off: per session, per transaction and per plugin call, building it eagerly was a
 * measurable share of the CPU per message. `levels` answers isLevelEnabled (children share the
 * root's level).
 */
export function lazyLogger(make: () => Logger, levels: Logger): Logger {
  let real: Logger | undefined;
  const get = (): Logger => (real ??= make());
  return new Proxy({} as Logger, {
    get(_t, prop) {
      if (typeof prop === 'string' && LEVELS.has(prop)) {
        return (...args: unknown[]) => (levels.isLevelEnabled(prop) ? (get() as unknown as Record<string, (...a: unknown[]) => void>)[prop](...args) : undefined);
      }
      const target = get();
      const v: unknown = Reflect.get(target, prop);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
