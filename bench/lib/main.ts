/** The entry point of a benchmark driver: run, then always clean up; a failure sets exit code 1. */
export function runDriver(main: () => Promise<void>, cleanup: () => Promise<void> | void, log: (m: string) => void): void {
  main().then(
    () => cleanup(),
    async (e: unknown) => {
      log(`FAILED: ${(e as Error).stack ?? String(e)}`);
      await cleanup();
      process.exitCode = 1;
    },
  );
}
