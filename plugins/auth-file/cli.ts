/**
 * `pochta user add|passwd|del|list`: manage the users file. Passwords come from a no-echo prompt
 * (asked twice) on a terminal, or from the first line of stdin; there is deliberately no option
 * that takes one on the command line.
 *
 * Exit statuses follow sysexits.h, as mail tools do (see README.md).
 */
import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { PluginCliContext } from '../../core/plugin.ts';
import { validAddress, canonicalAddress } from './address.ts';
import type { AuthFileConfig } from './config.ts';
import { hashPassword } from './password.ts';
import { PasswordInputError, readNewPassword, type PasswordInput } from './password-input.ts';
import { editUsersFile, formatOf, parseUsers, UsersFileError } from './users-file.ts';

export const EXIT = Object.freeze({
  ok: 0,
  /** EX_USAGE: a bad address. */
  usage: 64,
  /** EX_DATAERR: a bad password (empty, too short, the two do not match, none on stdin). */
  dataErr: 65,
  /** EX_NOUSER: passwd or del of a user that does not exist. */
  noUser: 67,
  /** EX_CANTCREAT: add of a user that exists already. */
  exists: 73,
  /** EX_IOERR: the users file could not be read or written. */
  ioErr: 74,
  /** EX_TEMPFAIL: another command holds the users file's lock. */
  tempFail: 75,
  /** EX_CONFIG: the users file is invalid. */
  config: 78,
  /** Ctrl-C at the prompt. */
  cancelled: 130,
});

export interface CliIo {
  stdin: PasswordInput;
  stdout: { write(s: string): unknown };
  stderr: { write(s: string): unknown };
}

class CliFailure extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
  }
}

function failureOf(err: unknown, file: string): CliFailure {
  if (err instanceof CliFailure) return err;
  if (err instanceof PasswordInputError) return new CliFailure(err.message, err.exitCode);
  if (err instanceof UsersFileError) {
    const code = { invalid: EXIT.config, exists: EXIT.exists, missing: EXIT.noUser, locked: EXIT.tempFail }[err.code];
    return new CliFailure(err.code === 'invalid' ? `${file}: ${err.message}` : err.message, code);
  }
  const errno = (err as NodeJS.ErrnoException)?.code;
  if (typeof errno === 'string' && /^E[A-Z]+$/.test(errno)) return new CliFailure(`${file}: ${(err as Error).message}`, EXIT.ioErr);
  throw err;
}

function address(arg: string): string {
  try {
    return validAddress(arg);
  } catch (err) {
    throw new CliFailure((err as Error).message, EXIT.usage);
  }
}

export function addUserCommands(
  program: Command,
  getCtx: () => Promise<PluginCliContext<AuthFileConfig>>,
  io: CliIo = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr },
): void {
  /**
   * Run an action with the plugin's context. A failure prints `error: …` on stderr and sets the exit
   * status (not commander's `error()`, which would print the usage after a wrong password too).
   */
  const action = <A extends unknown[]>(fn: (ctx: PluginCliContext<AuthFileConfig>, file: string, ...args: A) => Promise<void>) =>
    async (...args: [...A, Command]) => {
      const ctx = await getCtx();
      const file = ctx.resolvePath(ctx.config.file);
      try {
        await fn(ctx, file, ...(args.slice(0, -1) as A));
      } catch (err) {
        const f = failureOf(err, file);
        io.stderr.write(`error: ${f.message}\n`);
        process.exitCode = f.exitCode;
      }
    };

  const newHash = async (ctx: PluginCliContext<AuthFileConfig>) => {
    const password = await readNewPassword({ input: io.stdin, output: io.stderr });
    const min = ctx.config.minPasswordLength;
    if ([...password].length < min) throw new CliFailure(`the password is shorter than ${min} characters (minPasswordLength)`, EXIT.dataErr);
    return hashPassword(password, ctx.config.hash);
  };

  const user = program.command('user').description('Manage the users of the auth-file plugin (its users file).');

  user.command('add')
    .description('Add a user. The password is asked for twice on a terminal, or read from the first line of stdin.')
    .argument('<address>', 'login and id, e.g. alice@example.test (stored lower-cased)')
    .option('--name <name>', 'display name')
    .option('--disabled', 'add the user disabled: it exists but cannot log in')
    .action(action(async (ctx, file, arg: string, opts: { name?: string; disabled?: boolean }) => {
      const id = address(arg);
      const password = await newHash(ctx);
      await editUsersFile(file, { op: 'add', id, password, ...(opts.name !== undefined ? { name: opts.name } : {}), ...(opts.disabled ? { disabled: true } : {}) });
      io.stdout.write(`added ${id} (${file})\n`);
    }));

  user.command('passwd')
    .description('Set a user\'s password: asked for twice on a terminal, or read from the first line of stdin.')
    .argument('<address>', 'the user')
    .action(action(async (ctx, file, arg: string) => {
      const id = address(arg);
      const password = await newHash(ctx);
      await editUsersFile(file, { op: 'passwd', id, password });
      io.stdout.write(`password changed for ${id} (${file})\n`);
    }));

  user.command('del')
    .description('Delete a user from the users file (the mailbox stays).')
    .argument('<address>', 'the user')
    .action(action(async (_ctx, file, arg: string) => {
      // No strict validation: a malformed entry must still be removable.
      const id = canonicalAddress(arg);
      await editUsersFile(file, { op: 'del', id });
      io.stdout.write(`deleted ${id} (${file})\n`);
    }));

  user.command('list')
    .description('List the users: address, name, and whether disabled.')
    .option('--json', 'print a JSON array instead')
    .action(action(async (_ctx, file, opts: { json?: boolean }) => {
      const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      const users = text === undefined ? [] : [...parseUsers(text, formatOf(file)).byId.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
      if (text === undefined) io.stderr.write(`no users file yet (${file})\n`);
      if (opts.json) {
        io.stdout.write(`${JSON.stringify(users.map((u) => ({ id: u.id, name: u.name ?? null, disabled: Boolean(u.disabled) })))}\n`);
        return;
      }
      const idWidth = Math.max(0, ...users.map((u) => u.id.length));
      const nameWidth = Math.max(0, ...users.map((u) => (u.name ?? '').length));
      for (const u of users) {
        io.stdout.write(`${[u.id.padEnd(idWidth), (u.name ?? '').padEnd(nameWidth), u.disabled ? '(disabled)' : ''].join('  ').trimEnd()}\n`);
      }
    }));
}
