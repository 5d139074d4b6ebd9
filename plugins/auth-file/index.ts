/**
 * auth-file: users and scrypt password hashes in a YAML or JSON file. Answers `auth.verify`
 * (with failed-login throttling), provides the USER_DIRECTORY service, and adds `pochta user`.
 * Wiring only; the logic lives in the files beside this one.
 */
import { USER_DIRECTORY } from '../../core/auth/user-directory.ts';
import { definePlugin } from '../../core/plugin.ts';
import { createAuthenticator } from './authenticate.ts';
import { addUserCommands } from './cli.ts';
import { ConfigSchema } from './config.ts';
import { FileUserDirectory } from './directory.ts';
import { createThrottle } from './throttle.ts';

export default definePlugin({
  name: 'auth-file',
  description: 'Users and scrypt password hashes in a YAML/JSON file: answers auth.verify, provides the user directory, adds `pochta user`.',
  config: ConfigSchema,
  async register(hooks, ctx) {
    const directory = new FileUserDirectory({
      file: ctx.resolvePath(ctx.config.file),
      clock: ctx.clock,
      checkEveryMs: ctx.config.reloadCheckMs,
      hashParams: ctx.config.hash,
      log: ctx.log,
    });
    await directory.load();
    const authenticate = createAuthenticator({
      directory,
      throttle: createThrottle({ kv: ctx.kv, prefix: ctx.name, ...ctx.config.throttle }),
      localPartLogin: ctx.config.localPartLogin,
      count: (result) => ctx.metrics.inc('auth_file_logins_total', { result }),
    });
    ctx.services.provide(USER_DIRECTORY, directory);
    hooks.auth.verify.tap((attempt, creds, { log }) => authenticate(attempt, creds, log));
  },
  cli(program, getCtx) {
    addUserCommands(program, getCtx);
  },
});
