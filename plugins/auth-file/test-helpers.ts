/** Shared by this plugin's tests only. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Clock } from '../../core/clock.ts';
import { hashPassword } from './password.ts';

/** A clock the test moves by hand. */
export function fakeClock(start = 1_700_000_000_000): Clock & { advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

export function tempDir(prefix = 'pochta-auth-file-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** A cheap hash (ln=10) so tests stay fast; verification accepts it like any in-bounds hash. */
export function fastHash(password: string): Promise<string> {
  return hashPassword(password, { ln: 10, r: 8, p: 1 });
}

/** A users file in YAML. */
export async function usersYaml(users: Record<string, { password: string; name?: string; disabled?: boolean }>): Promise<string> {
  const lines = ['users:'];
  for (const [id, u] of Object.entries(users)) {
    lines.push(`  ${id}:`, `    password: "${await fastHash(u.password)}"`);
    if (u.name !== undefined) lines.push(`    name: ${JSON.stringify(u.name)}`);
    if (u.disabled !== undefined) lines.push(`    disabled: ${u.disabled}`);
  }
  return `${lines.join('\n')}\n`;
}
