/**
 * Reading a new password for the CLI: from the terminal without echo (asked twice), or from the
 * first line of stdin when it is a pipe or a file. Never from the command line, where it would
 * land in shell history and in every user's `ps` output.
 */
import { StringDecoder } from 'node:string_decoder';

export interface PasswordInput {
  readonly isTTY?: boolean;
  setRawMode?(mode: boolean): unknown;
  on(event: 'data', fn: (chunk: Buffer | string) => void): unknown;
  on(event: 'end', fn: () => void): unknown;
  on(event: 'error', fn: (err: Error) => void): unknown;
  removeListener(event: string, fn: (...args: any[]) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

export interface PasswordIo {
  input: PasswordInput;
  /** Where prompts go (stderr, so stdout stays clean for scripts). */
  output: { write(s: string): unknown };
}

export class PasswordInputError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'PasswordInputError';
  }
}

/** Longest first line read from a pipe. */
const MAX_LINE = 64 * 1024;

/**
 * Lines typed on a terminal that the caller has put in raw mode (so nothing is echoed). Keys
 * typed ahead (or pasted: "pw⏎pw⏎") wait in a queue for the next line. Backspace and Ctrl-U edit,
 * escape sequences (arrow keys) are dropped, Ctrl-C cancels, Ctrl-D on an empty line cancels.
 */
export function hiddenLineReader(input: PasswordInput): { readLine(): Promise<string>; close(): void } {
  const decoder = new StringDecoder('utf8');
  const queue: string[] = [];
  let ended = false;
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer | string) => {
    queue.push(...(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    wake?.();
  };
  const onEnd = () => { ended = true; wake?.(); };
  const onError = (err: Error) => { failure = err; wake?.(); };
  input.on('data', onData);
  input.on('end', onEnd);
  input.on('error', onError);
  input.resume();
  return {
    async readLine() {
      let chars: string[] = [];
      /** Inside an escape sequence: 1 after ESC, 2 inside a CSI or SS3 sequence. */
      let escape = 0;
      for (;;) {
        while (queue.length) {
          const ch = queue.shift()!;
          if (escape === 1) { escape = ch === '[' || ch === 'O' ? 2 : 0; continue; }
          if (escape === 2) { if (ch >= '@' && ch <= '~') escape = 0; continue; }
          if (ch === '\r' || ch === '\n') return chars.join('');
          if (ch === '\u0003') throw new PasswordInputError('cancelled', 130);
          if (ch === '\u0004') {
            if (chars.length) return chars.join('');
            throw new PasswordInputError('cancelled', 130);
          }
          if (ch === '\u007f' || ch === '\b') { chars.pop(); continue; }
          if (ch === '\u0015') { chars = []; continue; }
          if (ch === '\u001b') { escape = 1; continue; }
          if (ch < ' ') continue;
          chars.push(ch);
        }
        if (failure) throw failure;
        if (ended) {
          if (chars.length) return chars.join('');
          throw new PasswordInputError('no password entered', 65);
        }
        await new Promise<void>((resolve) => { wake = resolve; });
        wake = undefined;
      }
    },
    close() {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
    },
  };
}

/** The first line of a piped stdin (without its CR LF or LF); the rest is left unread. */
export function readFirstLine(input: PasswordInput): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const cleanup = () => {
      input.removeListener('data', onData);
      input.removeListener('end', onEnd);
      input.removeListener('error', onError);
      input.pause();
    };
    const done = (line: Buffer) => {
      cleanup();
      const s = line.toString('utf8');
      resolve(s.endsWith('\r') ? s.slice(0, -1) : s);
    };
    const onData = (chunk: Buffer | string) => {
      buf = Buffer.concat([buf, typeof chunk === 'string' ? Buffer.from(chunk) : chunk]);
      const nl = buf.indexOf(0x0a);
      if (nl >= 0) return done(buf.subarray(0, nl));
      if (buf.length > MAX_LINE) {
        cleanup();
        reject(new PasswordInputError(`the first line of stdin is longer than ${MAX_LINE} bytes`, 65));
      }
    };
    const onEnd = () => done(buf);
    const onError = (err: Error) => { cleanup(); reject(err); };
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('error', onError);
    input.resume();
  });
}

/** A new password: asked twice on a terminal, or the first line of stdin. */
export async function readNewPassword(io: PasswordIo): Promise<string> {
  const { input, output } = io;
  if (input.isTTY && input.setRawMode) {
    // Raw mode before the first prompt, kept until the last answer: nothing typed is ever echoed.
    input.setRawMode(true);
    const reader = hiddenLineReader(input);
    const ask = async (prompt: string) => {
      output.write(prompt);
      try {
        return await reader.readLine();
      } finally {
        output.write('\n');
      }
    };
    try {
      const first = await ask('New password: ');
      if (!first) throw new PasswordInputError('empty password', 65);
      const second = await ask('Retype new password: ');
      if (first !== second) throw new PasswordInputError('the passwords do not match', 65);
      return first;
    } finally {
      reader.close();
      input.setRawMode(false);
    }
  }
  const line = await readFirstLine(io.input);
  if (!line) throw new PasswordInputError('no password on stdin (pipe it in as the first line, or run on a terminal to be asked)', 65);
  return line;
}
