/**
 * Reused clamd sessions (IDSESSION) against a real clamd. A plain TCP relay sits between the pool
 * and clamd so the tests can count connections, restart clamd behind the same address and drop
 * a session at the worst moment; every byte still goes to and from the real clamd.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { eicar, startClamd, type TestClamd } from '../../core/testing/clamd.ts';
import { freePort } from '../../core/testing/redis-server.ts';
import { ClamdUnavailable } from './clamd-client.ts';
import { ClamdSessionPool } from './clamd-session.ts';
import { startSilentServer } from '../../test/helpers/policy-server.ts';
import { mimeWithAttachment } from './test-fixtures.ts';

const opts = { connectTimeoutMs: 2000, timeoutMs: 10_000 };
const cleanMsg = Buffer.from(mimeWithAttachment(Buffer.from('just a text file\n')));
const infectedMsg = Buffer.from(mimeWithAttachment(eicar()));
const from = (b: Buffer) => () => Readable.from([b]);

interface Relay {
  readonly port: number;
  /** Connections accepted so far. */
  accepted: number;
  upstreamPort: number;
  /** Close the next client connection that sends data, forwarding nothing. */
  dropOnNextData: boolean;
  /** Close every open connection (what clamd's idle timeout or a restart does). */
  dropAll(): void;
  close(): Promise<void>;
}

async function startRelay(upstreamPort: number): Promise<Relay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  const relay: Relay = {
    port: 0, accepted: 0, upstreamPort, dropOnNextData: false,
    dropAll() {
      for (const [a, b] of pairs) {
        a.destroy();
        b.destroy();
      }
    },
    close: () => new Promise<void>((r) => {
      relay.dropAll();
      server.close(() => r());
    }),
  };
  const server = net.createServer((client) => {
    relay.accepted++;
    const up = net.connect({ host: '127.0.0.1', port: relay.upstreamPort });
    const pair: [net.Socket, net.Socket] = [client, up];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      up.destroy();
    };
    client.on('data', (d: Buffer) => {
      if (relay.dropOnNextData) {
        relay.dropOnNextData = false;
        end();
        return;
      }
      up.write(d);
    });
    up.on('data', (d: Buffer) => client.write(d));
    for (const s of [client, up]) {
      s.on('error', end);
      s.on('close', end);
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return Object.assign(relay, { port: (server.address() as net.AddressInfo).port });
}

describe('ClamdSessionPool against a real clamd', () => {
  let clamd: TestClamd;
  let relay: Relay;
  before(async () => {
    clamd = await startClamd();
    relay = await startRelay(clamd.port);
  });
  after(async () => {
    await relay.close();
    await clamd.stop();
  });
  const target = () => ({ host: '127.0.0.1', port: relay.port });

  test('one connection carries many scans, each with its own verdict', async () => {
    const pool = new ClamdSessionPool(target(), { maxIdle: 4, idleMs: 60_000 });
    try {
      const before = relay.accepted;
      const kinds = [];
      for (const m of [cleanMsg, infectedMsg, cleanMsg, infectedMsg, cleanMsg]) kinds.push((await pool.scan(from(m), opts)).kind);
      assert.deepEqual(kinds, ['clean', 'infected', 'clean', 'infected', 'clean']);
      assert.equal(relay.accepted - before, 1);
      assert.equal(pool.idle, 1);
    } finally {
      pool.close();
    }
  });

  test('concurrent scans get their own answers; the sessions are reused for the next wave', async () => {
    const pool = new ClamdSessionPool(target(), { maxIdle: 8, idleMs: 60_000 });
    try {
      const before = relay.accepted;
      const wave = async () => {
        const msgs = Array.from({ length: 8 }, (_, i) => (i % 3 === 0 ? infectedMsg : cleanMsg));
        const got = await Promise.all(msgs.map((m) => pool.scan(from(m), opts)));
        assert.deepEqual(got.map((r) => r.kind), msgs.map((m) => (m === infectedMsg ? 'infected' : 'clean')));
      };
      await wave();
      const opened = relay.accepted - before;
      assert.ok(opened <= 8, `${opened} connections`);
      await wave();
      assert.equal(relay.accepted - before, opened, 'second wave opened no connection');
    } finally {
      pool.close();
    }
  });

  test('clamd restarted between messages: the next scan still gets a verdict, on a new session', async () => {
    const pool = new ClamdSessionPool(target(), { maxIdle: 4, idleMs: 60_000 });
    try {
      assert.equal((await pool.scan(from(infectedMsg), opts)).kind, 'infected');
      await clamd.stop();
      clamd = await startClamd();
      relay.upstreamPort = clamd.port;
      const before = relay.accepted;
      assert.equal((await pool.scan(from(infectedMsg), opts)).kind, 'infected');
      assert.equal((await pool.scan(from(cleanMsg), opts)).kind, 'clean');
      assert.equal(relay.accepted - before, 1);
    } finally {
      pool.close();
    }
  });

  test('a session clamd drops just as it is reused: retried once on a new connection, message read again', async () => {
    const pool = new ClamdSessionPool(target(), { maxIdle: 4, idleMs: 60_000 });
    try {
      assert.equal((await pool.scan(from(cleanMsg), opts)).kind, 'clean');
      relay.dropOnNextData = true;
      let opened = 0;
      const r = await pool.scan(() => {
        opened++;
        return Readable.from([infectedMsg]);
      }, opts);
      assert.equal(r.kind, 'infected');
      assert.equal(opened, 2);
    } finally {
      pool.close();
    }
  });

  test('sessions idle longer than idleMs are not reused; idle sessions closed by clamd are dropped', async () => {
    let now = 1000;
    const pool = new ClamdSessionPool(target(), { maxIdle: 4, idleMs: 5000, now: () => now });
    try {
      await pool.scan(from(cleanMsg), opts);
      const before = relay.accepted;
      now += 6000;
      await pool.scan(from(cleanMsg), opts);
      assert.equal(relay.accepted - before, 1, 'old session replaced');
      assert.equal(pool.idle, 1);
      relay.dropAll();
      for (let i = 0; i < 50 && pool.idle; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(pool.idle, 0);
      assert.equal((await pool.scan(from(infectedMsg), opts)).kind, 'infected');
    } finally {
      pool.close();
    }
  });

  test('clamd dead: ClamdUnavailable, also when an idle session was kept', async () => {
    const dead = await startClamd();
    const deadRelay = await startRelay(dead.port);
    const pool = new ClamdSessionPool({ host: '127.0.0.1', port: deadRelay.port }, { maxIdle: 4, idleMs: 60_000 });
    try {
      assert.equal((await pool.scan(from(cleanMsg), opts)).kind, 'clean');
      await dead.stop();
      deadRelay.upstreamPort = await freePort();
      await assert.rejects(pool.scan(from(cleanMsg), opts), ClamdUnavailable);
      await assert.rejects(pool.scan(from(cleanMsg), opts), ClamdUnavailable);
      assert.equal(pool.idle, 0);
      const nobody = new ClamdSessionPool({ host: '127.0.0.1', port: await freePort() }, { maxIdle: 4, idleMs: 60_000 });
      await assert.rejects(nobody.scan(from(cleanMsg), opts), ClamdUnavailable);
    } finally {
      pool.close();
      await deadRelay.close();
      await dead.stop();
    }
  });
});

void test('a clamd that never answers: ClamdUnavailable after the scan timeout, nothing kept', async () => {
  const silent = await startSilentServer();
  const pool = new ClamdSessionPool({ host: '127.0.0.1', port: silent.port }, { maxIdle: 4, idleMs: 60_000 });
  try {
    const input = Readable.from([Buffer.from('hello')]);
    await assert.rejects(pool.scan(() => input, { connectTimeoutMs: 1000, timeoutMs: 300 }), (e: Error) => e instanceof ClamdUnavailable && /no verdict/.test(e.message));
    assert.ok(input.destroyed);
    assert.equal(pool.idle, 0);
  } finally {
    pool.close();
    await silent.close();
  }
});

void test('clamd\'s StreamMaxLength error ends the session: never a verdict, never reused', async () => {
  const clamd = await startClamd({ streamMaxLength: '1M' });
  const pool = new ClamdSessionPool({ host: clamd.host, port: clamd.port }, { maxIdle: 4, idleMs: 60_000 });
  try {
    const r = await pool.scan(from(Buffer.alloc(3 * 1024 * 1024, 0x61)), opts).catch((e: unknown) => {
      if (e instanceof ClamdUnavailable) return 'unavailable' as const;
      throw e;
    });
    if (r !== 'unavailable') assert.deepEqual(r, { kind: 'error', message: 'INSTREAM size limit exceeded.', sizeLimit: true });
    assert.equal(pool.idle, 0);
    assert.equal((await pool.scan(from(infectedMsg), opts)).kind, 'infected');
  } finally {
    pool.close();
    await clamd.stop();
  }
});
