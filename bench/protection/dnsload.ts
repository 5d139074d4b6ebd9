// CPU per DNS query of the benchmark's two DNS servers, unbound and core/testing/dns-server.ts
// (dns2, in its child process), under the same load from node's resolver (c-ares):
// `node --import tsx bench/protection/dnsload.ts [queries]`. Half the queries are TXT hits
// (the SPF record), half NXDOMAIN (an unlisted DNSBL name); 10 in flight, then 1 in flight
// (every answer its own wake-up, as with sparse SMTP sessions). 127.0.0.1 only.
import { promises as dnsp } from 'node:dns';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLK_TCK, readStat, rssBytes } from '../lib/proc.ts';
import type { BenchDns } from './dns.ts';
import { startNodeDns } from './dns-node.ts';
import { startUnbound, unboundAvailable } from './unbound.ts';
import { SENDER_DOMAIN } from './zones.ts';

const N = Math.max(100, Number(process.argv[2]) || 5000);
const cpuMs = (pid: number): number => ((readStat(pid)?.ticks ?? 0) / CLK_TCK) * 1000;

async function load(dns: BenchDns, inFlight: number): Promise<string> {
  const res = new dnsp.Resolver({ timeout: 2000, tries: 1 });
  res.setServers([dns.server]);
  const one = (i: number): Promise<unknown> => (i % 2 ? res.resolveTxt(SENDER_DOMAIN) : res.resolve4(`${i}.2.0.127.nx.dnsbl.test`).catch(() => 0));
  for (let i = 0; i < 200; i++) await one(i); // warm-up
  const q0 = await dns.queries();
  const c0 = cpuMs(dns.pid);
  const me0 = process.cpuUsage();
  for (let i = 0; i < N; i += inFlight) await Promise.all(Array.from({ length: Math.min(inFlight, N - i) }, (_, j) => one(i + j)));
  const server = cpuMs(dns.pid) - c0;
  const me = process.cpuUsage(me0);
  const seen = (await dns.queries()) - q0;
  return `${dns.kind.padEnd(7)} ${String(inFlight).padStart(2)} in flight: server ${((server * 1000) / N).toFixed(1)} µs/query, client ${((me.user + me.system) / N).toFixed(1)} µs/query, ${seen}/${N} seen, RSS ${(rssBytes(dns.pid) / 2 ** 20).toFixed(1)} MB`;
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-dnsload-'));
const servers: BenchDns[] = [];
try {
  servers.push(await startNodeDns());
  if (unboundAvailable()) servers.push(await startUnbound(path.join(work, 'unbound')));
  else process.stdout.write('unbound not installed (apt-get install unbound): dns2 only\n');
  for (const d of servers) for (const k of [10, 1]) process.stdout.write(`${await load(d, k)}\n`);
} finally {
  for (const d of servers) await d.stop().catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
}
