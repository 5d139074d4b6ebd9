import { z } from 'zod';
import { MAX_SCRYPT_MEMORY, scryptMemory } from './password.ts';

const rule = (d: { maxFailures: number; windowMs: number; lockoutMs: number }, who: string) =>
  z.strictObject({
    maxFailures: z.number().int().min(0).max(100_000).default(d.maxFailures)
      .describe(`Failed logins ${who} within the window that lock it out; 0 switches this limit off.`),
    windowMs: z.number().int().min(1000).default(d.windowMs)
      .describe('Failures are counted in a window this long (ms), starting at the first failure.'),
    lockoutMs: z.number().int().min(1000).default(d.lockoutMs)
      .describe('How long (ms) a lockout holds; attempts meanwhile get 454 4.7.0 without a password check.'),
  }).prefault({});

/** The plugin's config section. README.md's table mirrors it (a test keeps them in step). */
export const ConfigSchema = z.strictObject({
  file: z.string().min(1).default('users.yaml')
    .describe('The users file: YAML, or JSON when the name ends in .json. Relative paths are taken from the data directory.'),
  reloadCheckMs: z.number().int().min(0).max(3_600_000).default(1000)
    .describe('How often (ms), at most, the file is checked for changes (stat: inode, size, mtime); 0 checks on every login.'),
  localPartLogin: z.boolean().default(false)
    .describe('Also accept the bare local part ("alice") as the login name when exactly one user has it.'),
  minPasswordLength: z.number().int().min(1).max(1024).default(8)
    .describe('Shortest password `pochta user add` and `pochta user passwd` accept.'),
  hash: z.strictObject({
    ln: z.number().int().min(15).max(20).default(15).describe('log2 of the scrypt cost N (15: N = 32768).'),
    r: z.number().int().min(1).max(32).default(8).describe('scrypt block size r.'),
    p: z.number().int().min(1).max(16).default(1).describe('scrypt parallelism p.'),
  })
    .refine((h) => scryptMemory(h) <= MAX_SCRYPT_MEMORY, `scrypt memory (128·r·2^ln) must stay within ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB`)
    .prefault({})
    .describe('scrypt parameters for new hashes (user add/passwd) and for the dummy hash unknown users are checked against. Existing hashes keep their own.'),
  throttle: z.strictObject({
    perIp: rule({ maxFailures: 10, windowMs: 600_000, lockoutMs: 900_000 }, 'from one client address (IPv6: its /64)')
      .describe('Limit on failed logins per client address.'),
    perUser: rule({ maxFailures: 20, windowMs: 600_000, lockoutMs: 900_000 }, 'for one username')
      .describe('Limit on failed logins per username, whatever the address (slows distributed guessing).'),
  }).prefault({}).describe('Failed-login throttling, counted in the shared key-value store.'),
});

export type AuthFileConfig = z.output<typeof ConfigSchema>;
