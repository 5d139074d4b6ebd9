/** Helpers for the rate-limit end-to-end tests: servers on a shared Redis, raw SMTP transactions. */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Dialogue } from '../../core/testing/dialogue.ts';
import type { TestRedis } from '../../core/testing/redis-server.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox } from '../../test/helpers/mail.ts';

export type Server = Awaited<ReturnType<typeof startTestServer>>;

export const WINDOW = 600_000;

export function manualClock() {
  let now = Math.ceil(Date.now() / WINDOW) * WINDOW;
  return { now: () => now, advance: (ms: number) => void (now += ms) };
}

export async function server(redis: TestRedis | undefined, limits: Record<string, unknown>, clock?: { now(): number }, prefix = `rl-${randomUUID().slice(0, 8)}:`): Promise<Server> {
  return startTestServer({
    config: {
      smtp: { maxConnectionsPerIp: 100 },
      plugins: { 'relay-acl': {}, 'auth-file': {}, 'rate-limit': limits, 'local-domains': { domains: ['pochta.test'] }, maildir: {} },
      ...(redis ? { kv: { redis: { url: redis.url, prefix, commandTimeoutMs: 5000, connectTimeoutMs: 5000 } } } : {}),
    },
    // Always an injected clock: windows never roll over in the middle of a test.
    clock: clock ?? manualClock(),
    setup: async (dir) => {
      await addUser(dir, 'alice@pochta.test', 'alice password 1');
      await addUser(dir, 'bob@pochta.test', 'bob password 1');
    },
  });
}

export async function open(port: number): Promise<{ d: Dialogue; greeting: string }> {
  const d = await Dialogue.connect(port);
  return { d, greeting: await d.reply() };
}

/** MAIL FROM then each RCPT; the replies, and DATA's final reply when a recipient was accepted. */
export async function transact(d: Dialogue, from: string, to: string[], subject?: string): Promise<{ mail: string; rcpts: string[]; final?: string }> {
  const mail = await d.cmd(`MAIL FROM:<${from}>`);
  if (!mail.startsWith('250')) return { mail, rcpts: [] };
  const rcpts: string[] = [];
  for (const r of to) rcpts.push(await d.cmd(`RCPT TO:<${r}>`));
  if (!subject || !rcpts.some((r) => r.startsWith('250'))) {
    await d.cmd('RSET');
    return { mail, rcpts };
  }
  await d.cmd('DATA');
  const final = await d.cmd(`Subject: ${subject}\r\n\r\nbody\r\n.`);
  return { mail, rcpts, final };
}

export async function session(port: number, fn: (d: Dialogue) => Promise<void>): Promise<void> {
  const { d, greeting } = await open(port);
  assert.match(greeting, /^220 /);
  try {
    await d.cmd('EHLO client.test');
    await fn(d);
  } finally {
    await d.cmd('QUIT').catch(() => undefined);
  }
}

export const inbox = async (s: Server, user: string, subject: string, folder = '') =>
  (await readInbox(s.dataDir, user, folder)).find((m) => m.includes(`Subject: ${subject}\r\n`));

/** Read one key straight from Redis with a raw RESP GET (the test checks what the servers stored). */
export async function redisGet(redis: TestRedis, key: string): Promise<string | null> {
  const { Redis } = await import('ioredis');
  const c = new Redis({ host: redis.host, port: redis.port, lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await c.connect();
    return await c.get(key);
  } finally {
    c.disconnect();
  }
}
