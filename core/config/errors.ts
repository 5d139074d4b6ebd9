import type { z } from 'zod';

/** A config problem, with every bad key named by its path: `plugins.dnsbl.zones: expected array`. */
export class ConfigError extends Error {
  constructor(readonly problems: string[], readonly source?: string) {
    super(`invalid config${source ? ` (${source})` : ''}:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

export function formatIssues(error: z.ZodError, prefix: Array<string | number> = []): string[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String);
    let msg = issue.message;
    if (issue.code === 'unrecognized_keys') msg = `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${path.length ? path.join('.') : '(root)'}: ${msg}`;
  });
}
