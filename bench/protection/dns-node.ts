// core/testing/dns-server.ts (dns2) in a child process, driven over IPC: the `node` kind of
// BenchDns, and the server of the slow-DNS check. Run as a child (`dns-node.ts child`) it serves
// zones.ts's benchZone; in the parent, startNodeDns() forks it and returns the handle.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { killGroup } from '../lib/group.ts';
import type { BenchDns } from './dns.ts';

type Op = 'queries' | 'listed' | 'delay';
interface Request { id: number; op: Op; arg?: number | boolean }
interface Reply { id?: number; result?: number; server?: string; error?: string }

async function child(): Promise<void> {
  const { startDnsServer } = await import('../../core/testing/dns-server.ts');
  const { benchZone, setListed } = await import('./zones.ts');
  const dns = await startDnsServer(benchZone());
  const send = (m: Reply): void => void process.send?.(m);
  process.on('message', (m: Request) => {
    if (m.op === 'listed') setListed(dns, m.arg === true);
    else if (m.op === 'delay') dns.delayMs = Number(m.arg) || 0;
    send({ id: m.id, result: m.op === 'queries' ? dns.queries.length : 0 });
  });
  // The parent going away (IPC closed) ends the child too: no orphan server.
  process.on('disconnect', () => void dns.close().finally(() => process.exit(0)));
  send({ server: dns.server });
}

/** Forks the dns2 server; onPid records the child for the run.sh backstop. */
export async function startNodeDns(onPid: (pid: number) => void = () => undefined): Promise<BenchDns> {
  const proc = fork(fileURLToPath(import.meta.url), ['child'], { execArgv: ['--import', 'tsx'], detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pid = proc.pid;
  if (pid === undefined) throw new Error('could not fork the dns2 server');
  onPid(pid);
  const pending = new Map<number, (r: Reply) => void>();
  let nextId = 1;
  let stopped = false;
  const server = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('dns2 server: no start within 30 s')), 30_000);
    proc.on('message', (m: Reply) => {
      if (m.server) { clearTimeout(timer); resolve(m.server); }
      else if (m.id !== undefined) { pending.get(m.id)?.(m); pending.delete(m.id); }
    });
    proc.once('exit', (code) => { clearTimeout(timer); reject(new Error(`dns2 server exited (${code})`)); });
  }).catch(async (e: unknown) => { await killGroup(pid, 2000); throw e; });
  const ask = (op: Op, arg?: number | boolean): Promise<number> => new Promise((resolve, reject) => {
    if (stopped || !proc.connected) { reject(new Error('dns2 server stopped')); return; }
    const id = nextId++;
    const timer = setTimeout(() => { pending.delete(id); reject(new Error(`dns2 server: no reply to ${op}`)); }, 10_000);
    pending.set(id, (r) => { clearTimeout(timer); resolve(r.result ?? 0); });
    proc.send({ id, op, arg } satisfies Request);
  });
  return {
    kind: 'node', server, pid,
    queries: () => ask('queries'),
    setListed: async (listed) => void await ask('listed', listed),
    setDelay: async (ms) => void await ask('delay', ms),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (proc.connected) proc.disconnect();
      await killGroup(pid, 5000);
    },
  };
}

if (process.argv[2] === 'child' && process.argv[1] === fileURLToPath(import.meta.url)) void child();
