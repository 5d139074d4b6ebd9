/**
 * A real DNS server on 127.0.0.1 for tests (dns2, UDP and TCP on one free port). Serves the
 * records a test gives it; answers NXDOMAIN for unknown names and NODATA for a known name
 * without the asked type. Zones can change while it runs; `delayMs` slows every answer (to test
 * that a slow DNS never stalls other sessions), `silent` names are never answered (timeouts).
 */
import dns2 from 'dns2';

const { Packet } = dns2;
const NXDOMAIN = 3;
const SERVFAIL = 2;

export interface DnsRecords {
  A?: string[];
  AAAA?: string[];
  /** Each string is one TXT record; records longer than 255 bytes are split into strings. */
  TXT?: string[];
  MX?: Array<{ exchange: string; priority: number }>;
  PTR?: string[];
  CNAME?: string;
  /** Answer SERVFAIL for this name. */
  servfail?: boolean;
  /** Never answer queries for this name (the client times out). */
  silent?: boolean;
}

/** Names are lower case without the trailing dot: `example.test`, `2.0.0.127.zen.dnsbl.test`. */
export type DnsZone = Record<string, DnsRecords>;

export interface TestDnsServer {
  readonly host: string;
  readonly port: number;
  /** `127.0.0.1:PORT`, for `createResolver({ servers: [...] })` and the `dns.servers` config key. */
  readonly server: string;
  /** Queries seen, as `TYPE name`. */
  readonly queries: string[];
  set(name: string, records: DnsRecords | undefined): void;
  delayMs: number;
  close(): Promise<void>;
}

const TYPE_NAMES: Record<number, string> = { 1: 'A', 28: 'AAAA', 16: 'TXT', 15: 'MX', 12: 'PTR', 5: 'CNAME' };

function txtStrings(s: string): Buffer[] {
  const b = Buffer.from(s);
  const out: Buffer[] = [];
  for (let i = 0; i < b.length; i += 255) out.push(b.subarray(i, i + 255));
  return out.length ? out : [Buffer.alloc(0)];
}

/** The PTR name of an IPv4 or (fully written) IPv6 address. */
export function ptrName(ip: string): string {
  if (ip.includes(':')) {
    const parts = ip.split('::');
    const head = parts[0] ? parts[0].split(':') : [];
    const tail = parts[1] ? parts[1].split(':') : [];
    const groups = parts.length === 2 ? [...head, ...Array(8 - head.length - tail.length).fill('0'), ...tail] : head;
    const nibbles = groups.map((g) => g.padStart(4, '0')).join('').split('');
    return `${nibbles.reverse().join('.')}.ip6.arpa`;
  }
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

type Send = (r: unknown) => void;

export async function startDnsServer(zone: DnsZone = {}, opts: { delayMs?: number } = {}): Promise<TestDnsServer> {
  const records = new Map<string, DnsRecords>(Object.entries(zone).map(([k, v]) => [k.toLowerCase(), v]));
  const queries: string[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const state = { delayMs: opts.delayMs ?? 0, closed: false };

  const handle = (request: { questions: Array<{ name: string; type: number }> }, send: Send): void => {
    const response = Packet.createResponseFromRequest(request as never);
    const answers = response.answers as unknown as object[];
    const q = request.questions[0];
    if (!q) return;
    const name = q.name.toLowerCase().replace(/\.$/, '');
    const t = TYPE_NAMES[q.type] ?? String(q.type);
    queries.push(`${t} ${name}`);
    const rec = records.get(name);
    if (rec?.silent) return;
    if (!rec) (response.header as { rcode: number }).rcode = NXDOMAIN;
    else if (rec.servfail) (response.header as { rcode: number }).rcode = SERVFAIL;
    else {
      const base = { name: q.name, class: Packet.CLASS.IN, ttl: 60 };
      if (rec.CNAME && t !== 'CNAME') answers.push({ ...base, type: Packet.TYPE.CNAME, domain: rec.CNAME });
      if (t === 'A') rec.A?.forEach((address) => answers.push({ ...base, type: Packet.TYPE.A, address }));
      if (t === 'AAAA') rec.AAAA?.forEach((address) => answers.push({ ...base, type: Packet.TYPE.AAAA, address }));
      if (t === 'TXT') rec.TXT?.forEach((txt) => answers.push({ ...base, type: Packet.TYPE.TXT, data: txtStrings(txt) }));
      if (t === 'MX') rec.MX?.forEach((mx) => answers.push({ ...base, type: Packet.TYPE.MX, ...mx }));
      if (t === 'PTR') rec.PTR?.forEach((domain) => answers.push({ ...base, type: Packet.TYPE.PTR, domain }));
      if (t === 'CNAME' && rec.CNAME) answers.push({ ...base, type: Packet.TYPE.CNAME, domain: rec.CNAME });
    }
    if (state.delayMs > 0 && !state.closed) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!state.closed) send(response);
      }, state.delayMs);
      timers.add(timer);
    } else send(response);
  };

  // UDP first on a free port, then TCP on the same number (bounded retries if it is taken).
  for (let attempt = 0; attempt < 10; attempt++) {
    const udp = dns2.createServer({ udp: true, handle: handle as never });
    await udp.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } } as never);
    const port = (udp.addresses() as { udp: { port: number } }).udp.port;
    const tcp = dns2.createServer({ tcp: true, handle: handle as never });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ tcp: { port, address: '127.0.0.1' } }).then(() => resolve(), reject);
      });
    } catch {
      await udp.close();
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      server: `127.0.0.1:${port}`,
      queries,
      set(n, r) {
        if (r) records.set(n.toLowerCase(), r);
        else records.delete(n.toLowerCase());
      },
      get delayMs() {
        return state.delayMs;
      },
      set delayMs(ms: number) {
        state.delayMs = ms;
      },
      async close() {
        state.closed = true;
        for (const t of timers) clearTimeout(t);
        timers.clear();
        await Promise.all([udp.close(), tcp.close()]);
      },
    };
  }
  throw new Error('could not find a free port for the test DNS server');
}
