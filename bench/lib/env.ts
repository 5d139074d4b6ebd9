/** Benchmark settings from the environment. */

/** A non-negative integer from `name`, or `dflt` when unset or empty; anything else is an error. */
export function envInt(name: string, dflt: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

/** A comma- or space-separated list from `name`, or from `dflt` when unset. */
export function envList(name: string, dflt: string): string[] {
  return (process.env[name] ?? dflt)
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== '');
}
