/**
 * CPU of one message's DNS lookups in this process, through core/dns (cache off) against unbound:
 * `node --import tsx bench/protection/dnsmsg.ts [messages per round] [rounds]`. The full set's pattern per message:
 * at connect the three DNS list names (NXDOMAIN) and the PTR, then the PTR name's A, at MAIL FROM
 * the SPF TXT, at the end of DATA the DMARC TXT — 7 queries. `before` starts the PTR only after
 * the lists answered (the old connect order), `after` with them. Also the same queries through
 * node's resolver directly (the floor for any wrapper). A benchmark, not a test.
 * `DNSMSG_CASE=<prefix>` runs only the cases whose name starts with it.
 */
import { promises as dnsp } from 'node:dns';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createResolver, type DnsResolver } from '../../core/dns.ts';
import { startUnbound } from './unbound.ts';
import { ALLOW_ZONE, BLOCK_ZONES, CLIENT_IP, HELO_NAME, listedName, SENDER_DOMAIN } from './zones.ts';

const N = Math.max(50, Number(process.argv[2]) || 200);
type DnsModule = typeof import('../../core/dns.ts');
// DNS_BEFORE=<path>: also measure another copy of core/dns.ts, interleaved (before → after).
const before = process.env.DNS_BEFORE ? ((await import(path.resolve(process.env.DNS_BEFORE))) as DnsModule).createResolver : undefined;
const ROUNDS = Math.max(3, Number(process.argv[3]) || 15);
const lists = [ALLOW_ZONE, ...BLOCK_ZONES].map(listedName);
const nx = (p: Promise<unknown>): Promise<unknown> => p.catch(() => undefined);

async function message(dns: DnsResolver, together: boolean): Promise<void> {
  const fcrdns = async () => dns.resolve4((await dns.reverse(CLIENT_IP))[0] ?? HELO_NAME);
  if (together) await Promise.all([...lists.map((n) => nx(dns.resolve4(n, { timeoutMs: 2000 }))), fcrdns()]);
  else {
    await Promise.all(lists.map((n) => nx(dns.resolve4(n, { timeoutMs: 2000 }))));
    await fcrdns();
  }
  await dns.resolveTxt(SENDER_DOMAIN);
  await dns.resolveTxt(`_dmarc.${SENDER_DOMAIN}`);
}

/** node's resolver behind the DnsResolver shape, nothing else (the floor). */
function rawResolver(server: string): DnsResolver {
  const r = new dnsp.Resolver({ timeout: 2500, tries: 2 });
  r.setServers([server]);
  return {
    resolve4: (n) => r.resolve4(n),
    resolve6: (n) => r.resolve6(n),
    resolveMx: (n) => r.resolveMx(n),
    resolveTxt: (n) => r.resolveTxt(n),
    reverse: (ip) => r.resolve(`${ip.split('.').reverse().join('.')}.in-addr.arpa`, 'PTR'),
    resolve: (n, t) => r.resolve(n, t),
  };
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'pochta-dnsmsg-'));
const unbound = await startUnbound(path.join(work, 'unbound'));
try {
  const core = createResolver({ servers: [unbound.server], timeoutMs: 5000, cache: { maxEntries: 0 } });
  const raw = rawResolver(unbound.server);
  const cases: Array<[string, () => Promise<void>]> = [
    ['core/dns, PTR after the lists (old connect order)', () => message(core, false)],
    ['core/dns, PTR with the lists', () => message(core, true)],
    ['node resolver only, PTR with the lists', () => message(raw, true)],
  ];
  if (before) {
    const old = before({ servers: [unbound.server], timeoutMs: 5000, cache: { maxEntries: 0 } });
    cases.push([`${process.env.DNS_BEFORE}, PTR after the lists`, () => message(old, false)], [`${process.env.DNS_BEFORE}, PTR with the lists`, () => message(old, true)]);
  }
  const got = new Map<string, number[]>();
  if (process.env.DNSMSG_CASE) cases.splice(0, cases.length, ...cases.filter((c) => c[0].startsWith(process.env.DNSMSG_CASE ?? '')));
  for (const [, fn] of cases) for (let i = 0; i < 200; i++) await fn(); // warm-up
  // Many short interleaved rounds: other jobs on the machine then move every case alike.
  for (let r = 0; r < ROUNDS; r++) {
    for (const [name, fn] of cases) {
      const t0 = process.cpuUsage();
      for (let i = 0; i < N; i++) await fn();
      const d = process.cpuUsage(t0);
      got.set(name, [...(got.get(name) ?? []), (d.user + d.system) / 1000 / N]);
    }
  }
  console.log(`\nCPU ms per message's 7 lookups in this process (${N} messages × ${ROUNDS} interleaved rounds, unbound on ${unbound.server}):\n`);
  console.log('| path | median ms/msg | quartiles |\n|---|---:|---|');
  for (const [name, xs] of got) {
    const q = [...xs].sort((a, b) => a - b);
    const at = (f: number) => q[Math.min(q.length - 1, Math.floor(f * q.length))]?.toFixed(3);
    console.log(`| ${name} | ${at(0.5)} | ${at(0.25)} – ${at(0.75)} |`);
  }
} finally {
  await unbound.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
