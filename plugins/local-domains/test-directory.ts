/**
 * Test support only: a tiny plugin providing USER_DIRECTORY from a fixed list, standing in for
 * auth-file in the recipient plugins' tests. Lookups are exact (ids are already canonical), as a
 * real directory's are; `lookups` records every id asked for.
 */
import { z } from 'zod';
import { USER_DIRECTORY, type UserDirectory, type UserRecord } from '../../core/auth/user-directory.ts';
import { definePlugin } from '../../core/plugin.ts';

export interface TestDirectory extends UserDirectory {
  readonly lookups: string[];
}

/** `users` is read on every call: a test may add to it to see the directory change. */
export function makeTestDirectory(users: Array<string | UserRecord>): TestDirectory {
  const all = (): UserRecord[] => users.map((u) => (typeof u === 'string' ? { id: u } : u));
  const lookups: string[] = [];
  return {
    lookups,
    async lookup(id) {
      lookups.push(id);
      return all().find((r) => r.id === id);
    },
    async verify() {
      return undefined;
    },
    async list() {
      return all();
    },
    async domains() {
      return [...new Set(all().map((r) => r.id.slice(r.id.lastIndexOf('@') + 1)))];
    },
  };
}

/** A plugin named `test-directory` that provides `directory`. */
export function testDirectoryPlugin(directory: UserDirectory) {
  return definePlugin({
    name: 'test-directory',
    description: 'Test user directory.',
    config: z.strictObject({}),
    register(_hooks, ctx) {
      ctx.services.provide(USER_DIRECTORY, directory);
    },
  });
}
