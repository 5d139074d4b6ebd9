/** Stopping the detached children (process groups) a benchmark driver starts. */

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM a detached child's process group, wait up to graceMs, then SIGKILL it. Bounded. */
export async function killGroup(pid: number, graceMs = 10_000): Promise<void> {
  const sig = (s: NodeJS.Signals): void => {
    try {
      process.kill(-pid, s);
    } catch {
      /* already gone */
    }
  };
  sig('SIGTERM');
  const end = Date.now() + graceMs;
  while (Date.now() < end && pidAlive(pid)) await sleep(100);
  sig('SIGKILL');
}
