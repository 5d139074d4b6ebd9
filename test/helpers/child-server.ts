import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './mail.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = path.join(ROOT, 'bin', 'pochta.js');

export interface ChildServer {
  child: ChildProcess;
  /** The MX listener's port, from the server's JSON log. */
  port: number;
  /** Everything it printed so far. */
  output(): string;
  /** Its JSON log lines so far. */
  lines(): Array<Record<string, any>>;
  /** SIGTERM and wait for the exit (SIGKILL after 15 s). */
  stop(): Promise<void>;
}

/** `pochta start` as a real child process (what an admin runs), ready once its MX listener is up. */
export async function startChildServer(config: string, timeoutMs = 30_000): Promise<ChildServer> {
  const child = spawn(process.execPath, [BIN, 'start', '--config', config], { cwd: path.dirname(config), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  let exited = false;
  child.once('exit', () => (exited = true));
  const lines = () => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, any>);
  const listening = await waitFor(() => {
    if (exited) throw new Error(`server exited: ${out}`);
    return lines().find((l) => l.event === 'smtp.listening' && l.listener === 'mx');
  }, timeoutMs, 'the MX listener').catch((err: Error) => {
    child.kill('SIGKILL');
    throw new Error(`${err.message}; output: ${out.slice(-2000)}`);
  });
  return {
    child,
    port: Number(listening.port),
    output: () => out,
    lines,
    async stop() {
      if (exited) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.kill('SIGTERM');
      await once(child, 'exit');
      clearTimeout(timer);
    },
  };
}
