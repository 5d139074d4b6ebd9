import type { RootConfigInput } from './schema.ts';

/**
 * The embedded default: what `npm start` runs with no config file. Loopback only, unprivileged
 * ports, users in data/users.yaml, mail into data/mail. Safe: nothing relays but authenticated users.
 */
export const EMBEDDED_DEFAULT: RootConfigInput = {
  plugins: {
    'relay-acl': {},
    'auth-file': {},
    aliases: {},
    'local-domains': {},
    maildir: {},
  },
};
