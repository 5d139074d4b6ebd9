import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { promises as dnsp } from 'node:dns';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startDnsServer, type TestDnsServer } from '../testing/dns-server.ts';
import { parseServer, WireClient } from './wire-client.ts';
import { createResolver } from '../dns.ts';
import type { WireType } from './wire.ts';

const zone = {
  'a.test': {
    A: ['127.0.0.2', '10.0.0.1'], AAAA: ['2001:db8::1', 'fe80::1:2'],
    TXT: ['v=spf1 -all', 'x'.repeat(300), 'second'], MX: [{ exchange: 'mx1.a.test', priority: 10 }, { exchange: 'mx2.a.test', priority: 20 }],
  },
  'alias.test': { CNAME: 'a.test' },
  '2.0.0.127.in-addr.arpa': { PTR: ['host.a.test'] },
  'broken.test': { servfail: true },
  'slow.test': { silent: true },
};

const client = (server: string, o: { timeoutMs?: number; tries?: number } = {}) =>
  new WireClient([parseServer(server)!], { timeoutMs: o.timeoutMs ?? 4000, tries: o.tries ?? 2 });

async function withServer(fn: (srv: TestDnsServer, c: WireClient, node: dnsp.Resolver) => Promise<void>, o: { tries?: number; timeoutMs?: number } = {}) {
  const srv = await startDnsServer(zone);
  const c = client(srv.server, o);
  const node = new dnsp.Resolver({ timeout: 2000, tries: 1 });
  node.setServers([srv.server]);
  try {
    await fn(srv, c, node);
  } finally {
    c.close();
    node.cancel();
    await srv.close();
  }
}

const outcome = (p: Promise<unknown>) => p.then((v) => ({ v }), (e: { code?: string }) => ({ code: e.code }));
const values = (c: WireClient, name: string, type: WireType) => c.query(name, type).then((a) => a.values);

test('every type, shape and negative code matches node on the same server', () => withServer(async (_srv, c, node) => {
  const cases: Array<[string, WireType]> = [
    ['a.test', 'A'], ['a.test', 'AAAA'], ['a.test', 'TXT'], ['a.test', 'MX'], ['A.Test', 'A'],
    ['alias.test', 'A'], ['alias.test', 'TXT'], ['2.0.0.127.in-addr.arpa', 'PTR'],
    ['missing.test', 'A'], ['missing.test', 'TXT'], ['a.test', 'PTR'], ['broken.test', 'A'],
  ];
  for (const [name, type] of cases) {
    const theirs = await outcome(node.resolve(name, type as 'A'));
    // A CNAME to a name without records of the type: c-ares answers an empty list, this client NODATA.
    if (name === 'alias.test') assert.deepStrictEqual(theirs, { v: [] });
    else assert.deepStrictEqual(await outcome(values(c, name, type)), theirs, `${type} ${name}`);
  }
  assert.deepStrictEqual(await outcome(values(c, 'alias.test', 'A')), { code: 'ENODATA' });
  assert.deepStrictEqual(await outcome(values(c, 'alias.test', 'TXT')), { code: 'ENODATA' });
  assert.deepStrictEqual(await outcome(values(c, 'missing.test', 'A')), { code: 'ENOTFOUND' });
  assert.deepStrictEqual(await outcome(values(c, 'a.test', 'PTR')), { code: 'ENODATA' });
  assert.deepStrictEqual(await outcome(values(c, 'broken.test', 'A')), { code: 'ESERVFAIL' });
  assert.deepStrictEqual((await c.query('a.test', 'A')).ttl, 60);
  assert.deepStrictEqual(await outcome(values(c, 'bad..name', 'A')), { code: 'EBADNAME' });
}));

test('no answer: ETIMEOUT after every try, one packet per try', () => withServer(async (srv, c) => {
  assert.deepStrictEqual(await outcome(values(c, 'slow.test', 'A')), { code: 'ETIMEOUT' });
  assert.equal(srv.queries.filter((q) => q === 'A slow.test').length, 2);
}, { tries: 2, timeoutMs: 200 }));

test('an answer later than its try is not taken', () => withServer(async (srv, c) => {
  srv.delayMs = 400;
  assert.deepStrictEqual(await outcome(values(c, 'a.test', 'A')), { code: 'ETIMEOUT' });
}, { tries: 1, timeoutMs: 100 }));

test('many concurrent queries all get their own answer, over one kept socket', () => withServer(async (srv, c) => {
  for (let i = 0; i < 300; i++) srv.set(`h${i}.test`, { A: [`10.1.${i >> 8}.${i & 255}`] });
  const got = await Promise.all(Array.from({ length: 300 }, (_, i) => values(c, `h${i}.test`, 'A')));
  got.forEach((v, i) => assert.deepStrictEqual(v, [`10.1.${i >> 8}.${i & 255}`]));
  assert.deepStrictEqual(await values(c, 'a.test', 'A'), ['127.0.0.2', '10.0.0.1']);
}));

// --- A raw responder, for answers the test server cannot give (spoofs, TC, garbage, chains). ---

function wireName(name: string): Buffer {
  return Buffer.concat([...name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
}

function rr(name: string, type: number, ttl: number, rdata: Buffer): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(type, 0);
  fixed.writeUInt16BE(1, 2);
  fixed.writeUInt32BE(ttl, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([wireName(name), fixed, rdata]);
}

/** A reply to `query` (its question copied) with these answers; `id`/`qname`/`flags` override. */
function reply(query: Buffer, answers: Buffer[], o: { id?: number; flags?: number; qname?: string } = {}): Buffer {
  let qEnd = 12;
  while (query[qEnd] !== 0) qEnd += query[qEnd] + 1;
  qEnd += 5;
  const question = o.qname ? Buffer.concat([wireName(o.qname), query.subarray(qEnd - 4, qEnd)]) : query.subarray(12, qEnd);
  const h = Buffer.alloc(12);
  h.writeUInt16BE(o.id ?? query.readUInt16BE(0), 0);
  h.writeUInt16BE(o.flags ?? 0x8180, 2);
  h.writeUInt16BE(1, 4);
  h.writeUInt16BE(answers.length, 6);
  return Buffer.concat([h, question, ...answers]);
}

const ip4 = (s: string) => Buffer.from(s.split('.').map(Number));

/** UDP (and TCP on the same port when `tcp` is given) on 127.0.0.1. */
async function rawServer(onUdp: (q: Buffer, send: (b: Buffer) => void, from: dgram.RemoteInfo) => void, tcp?: (q: Buffer) => Buffer) {
  const udp = dgram.createSocket('udp4');
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', r));
  const port = udp.address().port;
  udp.on('message', (q, from) => onUdp(q, (b) => udp.send(b, from.port, from.address), from));
  let tcpServer: net.Server | undefined;
  if (tcp) {
    const srv = net.createServer((s) => {
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) + 2) {
          const out = tcp(buf.subarray(2, 2 + buf.readUInt16BE(0)));
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          s.end(Buffer.concat([len, out]));
        }
      });
      s.on('error', () => undefined);
    });
    tcpServer = srv;
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
  }
  return {
    server: `127.0.0.1:${port}`,
    close: async () => {
      udp.close();
      if (tcpServer) await new Promise<void>((r) => tcpServer.close(() => r()));
    },
  };
}

test('replies from another port, with another ID or for another question are ignored (RFC 5452 §9.1)', async () => {
  const spoofer = dgram.createSocket('udp4');
  await new Promise<void>((r) => spoofer.bind(0, '127.0.0.1', r));
  const raw = await rawServer((q, send, from) => {
    const bad = rr('spoof.test', 1, 60, ip4('6.6.6.6'));
    spoofer.send(reply(q, [bad]), from.port, from.address);
    send(reply(q, [bad], { id: (q.readUInt16BE(0) + 1) & 0xffff }));
    send(reply(q, [rr('other.test', 1, 60, ip4('6.6.6.7'))], { qname: 'other.test' }));
    setTimeout(() => send(reply(q, [rr('spoof.test', 1, 60, ip4('1.2.3.4'))])), 20);
  });
  const c = client(raw.server, { tries: 1 });
  try {
    assert.deepStrictEqual(await values(c, 'spoof.test', 'A'), ['1.2.3.4']);
  } finally {
    c.close();
    spoofer.close();
    await raw.close();
  }
});

test('a truncated UDP answer is asked again over TCP', async () => {
  let tcpQueries = 0;
  const raw = await rawServer((q, send) => send(reply(q, [], { flags: 0x8380 })), (q) => {
    tcpQueries++;
    return reply(q, [rr('big.test', 16, 60, Buffer.from('\x05hello'))]);
  });
  const c = client(raw.server, { tries: 1 });
  try {
    assert.deepStrictEqual(await values(c, 'big.test', 'TXT'), [['hello']]);
    assert.equal(tcpQueries, 1);
  } finally {
    c.close();
    await raw.close();
  }
});

test('a reply that cannot be read is dropped (the try times out: a forged one cannot end a lookup); CNAME chains are followed, other names left out', async () => {
  const raw = await rawServer((q, send) => {
    const name = q.toString('latin1', 13, 13 + q[12]);
    if (name === 'garbage') return send(Buffer.concat([q.subarray(0, 2), Buffer.from([0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0, 0xc0, 0x0c])]));
    if (name === 'loop') return send(reply(q, [Buffer.concat([Buffer.from([0xc0, 0x30]), Buffer.alloc(10)])]));
    send(reply(q, [
      rr('chain.test', 5, 30, wireName('mid.test')), rr('mid.test', 5, 600, wireName('end.test')),
      rr('end.test', 1, 300, ip4('192.0.2.7')), rr('unrelated.test', 1, 300, ip4('192.0.2.99')),
    ]));
  });
  const c = client(raw.server, { tries: 1, timeoutMs: 500 });
  const node = new dnsp.Resolver({ timeout: 500, tries: 1 });
  node.setServers([raw.server]);
  try {
    // c-ares fails the lookup with EBADRESP at once; here the reply is dropped and the try runs out.
    assert.deepStrictEqual(await outcome(node.resolve4('garbage.test')), { code: 'EBADRESP' });
    assert.deepStrictEqual(await outcome(values(c, 'garbage.test', 'A')), { code: 'ETIMEOUT' });
    assert.deepStrictEqual(await outcome(values(c, 'loop.test', 'A')), { code: 'ETIMEOUT' });
    assert.deepStrictEqual(await c.query('chain.test', 'A'), { values: ['192.0.2.7'], ttl: 30 });
    // c-ares also returns the A record of a name outside the chain; only the chain's is taken.
    assert.deepStrictEqual(await values(c, 'chain.test', 'A'), (await node.resolve4('chain.test')).filter((a) => a !== '192.0.2.99'));
  } finally {
    c.close();
    node.cancel();
    await raw.close();
  }
});

test('server strings: host, host:port, IPv6 with and without brackets; anything else is refused', () => {
  assert.deepStrictEqual(parseServer('127.0.0.1'), { address: '127.0.0.1', port: 53, family: 4 });
  assert.deepStrictEqual(parseServer('127.0.0.1:5353'), { address: '127.0.0.1', port: 5353, family: 4 });
  assert.deepStrictEqual(parseServer('::1'), { address: '::1', port: 53, family: 6 });
  assert.deepStrictEqual(parseServer('[0:0::1]:5353'), { address: '::1', port: 5353, family: 6 });
  assert.equal(parseServer('127.0.0.1:99999'), undefined);
  assert.equal(parseServer('dns.example'), undefined);
  assert.equal(parseServer('fe80::1%eth0'), undefined);
});

test('createResolver with the built-in client: cache, codes, other types through node, close', async () => {
  const srv = await startDnsServer(zone);
  const r = createResolver({ servers: [srv.server], client: 'pochta' });
  try {
    assert.deepStrictEqual(await r.resolve4('a.test'), ['127.0.0.2', '10.0.0.1']);
    assert.deepStrictEqual(await r.resolveMx('a.test'), [{ exchange: 'mx1.a.test', priority: 10 }, { exchange: 'mx2.a.test', priority: 20 }]);
    assert.deepStrictEqual(await r.reverse('127.0.0.2'), ['host.a.test']);
    assert.deepStrictEqual(await r.resolve('alias.test', 'CNAME'), ['a.test']);
    await assert.rejects(r.resolveTxt('missing.test'), { code: 'ENOTFOUND', hostname: 'missing.test', rrtype: 'TXT' });
    await r.resolve4('a.test');
    assert.equal(srv.queries.filter((q) => q === 'A a.test').length, 1);
  } finally {
    r.close();
    await srv.close();
  }
  await assert.rejects(r.resolve4('other.test'), { code: 'ECANCELLED' });
});

test('close() cancels an outstanding query and sends no further try', () => withServer(async (srv, c) => {
  srv.delayMs = 500;
  const pending = outcome(values(c, 'a.test', 'A'));
  await new Promise((r) => setTimeout(r, 50));
  c.close();
  assert.deepStrictEqual(await pending, { code: 'ECANCELLED' });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(srv.queries.filter((q) => q === 'A a.test').length, 1);
}, { tries: 3, timeoutMs: 600 }));

test('an outstanding query keeps a process alive (a CLI awaiting an answer does not exit early)', async () => {
  const srv = await startDnsServer(zone, { delayMs: 300 });
  const mod = fileURLToPath(new URL('./wire-client.ts', import.meta.url));
  const script = `const { WireClient, parseServer } = await import(${JSON.stringify(mod)});
    const c = new WireClient([parseServer(${JSON.stringify(srv.server)})], { timeoutMs: 3000, tries: 1 });
    console.log(JSON.stringify((await c.query('a.test', 'A')).values));`;
  try {
    const out = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 20_000 }, (err, stdout) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout });
      });
    });
    assert.equal(out.code, 0);
    assert.deepStrictEqual(JSON.parse(out.stdout), ['127.0.0.2', '10.0.0.1']);
  } finally {
    await srv.close();
  }
});

/** A loopback UDP port nobody listens on (bound, read, closed). */
async function deadPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a resolver nobody listens on: ECONNREFUSED from ICMP, not a wait for the timeout; the next server answers', async () => {
  const dead = await deadPort();
  const alone = new WireClient([parseServer(`127.0.0.1:${dead}`)!], { timeoutMs: 20_000, tries: 2 });
  const srv = await startDnsServer(zone);
  const two = new WireClient([parseServer(`127.0.0.1:${dead}`)!, parseServer(srv.server)!], { timeoutMs: 20_000, tries: 2 });
  try {
    assert.deepStrictEqual(await outcome(values(alone, 'a.test', 'A')), { code: 'ECONNREFUSED' });
    assert.deepStrictEqual(await values(two, 'a.test', 'A'), ['127.0.0.2', '10.0.0.1']);
  } finally {
    alone.close();
    two.close();
    await srv.close();
  }
});

test('a server without EDNS (FORMERR to the OPT record) is asked again plainly; FORMERR to that too is EFORMERR', async () => {
  const seen: number[] = [];
  const raw = await rawServer((q, send) => {
    const arcount = q.readUInt16BE(10);
    seen.push(arcount);
    const name = q.toString('latin1', 13, 13 + q[12]);
    if (arcount > 0 || name === 'never') return send(reply(q, [], { flags: 0x8181 }));
    send(reply(q, [rr('old.test', 1, 60, ip4('192.0.2.9'))]));
  });
  const c = client(raw.server, { tries: 1, timeoutMs: 2000 });
  try {
    assert.deepStrictEqual(await values(c, 'old.test', 'A'), ['192.0.2.9']);
    assert.deepStrictEqual(seen, [1, 0]);
    assert.deepStrictEqual(await outcome(values(c, 'never.test', 'A')), { code: 'EFORMERR' });
    assert.deepStrictEqual(seen, [1, 0, 1, 0]);
  } finally {
    c.close();
    await raw.close();
  }
});
