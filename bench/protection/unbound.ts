// unbound, the local caching resolver a site runs (and DNSBL operators recommend), as the
// benchmark's DNS server: Debian's binary in the foreground on 127.0.0.1:<free port>, its own
// config in the work dir, every bench name served from local data (zones.ts), nothing ever
// recursed or forwarded (no upstream, no trust anchor, `.` itself is a static local zone).
// Query counts come from `unbound-control stats_noreset` over a unix socket in the work dir.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promises as dnsp } from 'node:dns';
import path from 'node:path';
import type { DnsZone } from '../../core/testing/dns-server.ts';
import { killGroup, pidAlive } from '../lib/group.ts';
import { freePort } from '../lib/net.ts';
import type { BenchDns } from './dns.ts';
import { benchZone, CLIENT_IP, HELO_NAME, listedZone } from './zones.ts';

export const UNBOUND = process.env.UNBOUND_BIN ?? '/usr/sbin/unbound';
export const UNBOUND_CONTROL = process.env.UNBOUND_CONTROL_BIN ?? '/usr/sbin/unbound-control';

export const unboundAvailable = (): boolean => fs.existsSync(UNBOUND) && fs.existsSync(UNBOUND_CONTROL);

const quoteTxt = (s: string): string => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** One RR per line in unbound's local-data syntax (`name. TTL IN TYPE rdata`), from a dns-server.ts zone. */
export function localDataLines(zone: DnsZone, ttl = 60): string[] {
  const out: string[] = [];
  for (const [name, r] of Object.entries(zone)) {
    const owner = `${name.replace(/\.$/, '')}. ${ttl} IN`;
    for (const a of r.A ?? []) out.push(`${owner} A ${a}`);
    for (const a of r.AAAA ?? []) out.push(`${owner} AAAA ${a}`);
    for (const t of r.TXT ?? []) out.push(`${owner} TXT ${quoteTxt(t)}`);
    for (const p of r.PTR ?? []) out.push(`${owner} PTR ${p.replace(/\.$/, '')}.`);
    for (const m of r.MX ?? []) out.push(`${owner} MX ${m.priority} ${m.exchange.replace(/\.$/, '')}.`);
    if (r.CNAME) out.push(`${owner} CNAME ${r.CNAME.replace(/\.$/, '')}.`);
  }
  return out;
}

// unbound.conf strings: single-quoted, so the double quotes of TXT rdata pass through.
const q = (s: string): string => `'${s}'`;

export function unboundConfig(dir: string, port: number, zone: DnsZone): string {
  return `# Written by bench/protection/unbound.ts: loopback only, local data only, nothing recursed.
server:
  verbosity: 0
  do-daemonize: no
  username: ""
  chroot: ""
  directory: ${q(dir)}
  pidfile: ${q(path.join(dir, 'unbound.pid'))}
  logfile: ${q(path.join(dir, 'unbound.log'))}
  use-syslog: no
  interface: 127.0.0.1
  port: ${port}
  do-ip4: yes
  do-ip6: no
  do-udp: yes
  do-tcp: yes
  access-control: 127.0.0.0/8 allow
  num-threads: 1
  # No validator, so no trust anchor (and no unbound-anchor); no forward-zone/stub-zone, and
  # "." static: a name outside the local data is NXDOMAIN from memory, never asked upstream.
  module-config: "iterator"
  local-zone: "." static
  local-zone: "test." static
  local-zone: "127.in-addr.arpa." static
${localDataLines(zone).map((l) => `  local-data: ${q(l)}`).join('\n')}
remote-control:
  control-enable: yes
  control-interface: ${q(path.join(dir, 'control.sock'))}
  control-use-cert: no
`;
}

function control(conf: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(UNBOUND_CONTROL, ['-c', conf, ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`unbound-control ${args[0] ?? ''}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

/** Waits (bounded) until unbound answers the client's A record from its local data. */
async function waitAnswering(server: string, alive: () => boolean): Promise<void> {
  const r = new dnsp.Resolver({ timeout: 300, tries: 1 });
  r.setServers([server]);
  let last = '';
  for (let i = 0; i < 100 && alive(); i++) {
    try {
      const a = await r.resolve4(HELO_NAME);
      if (a.includes(CLIENT_IP)) return;
      last = `wrong answer ${a.join(',')}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`unbound on ${server} not answering (${alive() ? last : 'exited'})`);
}

/** Starts unbound in `dir` (created); onPid records the process for the run.sh backstop. */
export async function startUnbound(dir: string, onPid: (pid: number) => void = () => undefined): Promise<BenchDns> {
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'unbound.conf');
  let lastErr: unknown;
  // freePort checks TCP only; a UDP clash makes unbound exit, so a few bounded attempts.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    fs.writeFileSync(conf, unboundConfig(dir, port, benchZone()));
    const out = fs.openSync(path.join(dir, 'unbound.out'), 'a');
    const proc = spawn(UNBOUND, ['-d', '-c', conf], { detached: true, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    const pid = proc.pid;
    if (pid === undefined) throw new Error('could not start unbound');
    onPid(pid);
    const server = `127.0.0.1:${port}`;
    try {
      await waitAnswering(server, () => proc.exitCode === null && proc.signalCode === null);
    } catch (e) {
      lastErr = e;
      await killGroup(pid, 3000);
      continue;
    }
    let stopped = false;
    return {
      kind: 'unbound', server, pid,
      async queries() {
        const m = /^total\.num\.queries=(\d+)$/m.exec(await control(conf, ['stats_noreset']));
        if (!m) throw new Error('unbound-control stats_noreset: no total.num.queries');
        return Number(m[1]);
      },
      async setListed(listed) {
        const z = listedZone();
        if (listed) for (const l of localDataLines(z)) await control(conf, ['local_data', l]);
        else for (const name of Object.keys(z)) await control(conf, ['local_data_remove', name]);
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        if (pidAlive(pid)) await killGroup(pid, 5000);
      },
    };
  }
  const log = fs.existsSync(path.join(dir, 'unbound.log')) ? fs.readFileSync(path.join(dir, 'unbound.log'), 'utf8').slice(-500) : '';
  throw new Error(`${(lastErr as Error).message}${log ? `; log: ${log}` : ''}`);
}
