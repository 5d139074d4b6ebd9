import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startChildServer } from '../helpers/child-server.ts';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';


const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('workers: 2 share the listener, each message is delivered once, a killed worker is replaced', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-workers-'));
  const cfg = path.join(dir, 'pochta.config.yaml');
  await writeFile(cfg, [
    'hostname: mx.workers.test', 'dataDir: ./data', 'workers: 2', 'log: { level: info, pretty: false }',
    'pop3: { listeners: {} }', 'imap: { listeners: {} }', 'smtp:', '  maxConnectionsPerIp: 100', '  listeners:', '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
    'plugins:', '  auth-file: {}', '  local-domains: { domains: [workers.test] }', '  maildir: {}', '',
  ].join('\n'));
  const data = path.join(dir, 'data');
  await addUser(data, 'w@workers.test', 'irrelevant password');
  const server = await startChildServer(cfg);
  const { port } = server;
  const lines = () => server.lines();
  const workerPids = () => new Map(lines().filter((l) => l.event === 'server.starting').map((l) => [l.worker as number, l.pid as number]));
  try {
    await waitFor(() => lines().filter((l) => l.event === 'server.ready').length >= 2, 30_000, 'two workers ready');
    const ids = Array.from({ length: 40 }, (_, i) => `<w${i}@workers.test>`);
    await Promise.all(ids.map((id, i) => send({ port, from: `s${i}@x.test`, to: ['w@workers.test'], raw: `Subject: ${i}\r\nMessage-ID: ${id}\r\n\r\nx\r\n` })));
    // Log lines reach us through each worker's pipe after the 250s the client saw: wait (bounded).
    const byWorker = () => [...new Set(lines().filter((l) => l.event === 'smtp.transaction').map((l) => l.worker))].sort();
    await waitFor(() => byWorker().length >= 2 || undefined, 10_000, 'both workers took connections').catch(() => undefined);
    assert.deepEqual(byWorker(), [1, 2], 'both workers took connections');
    let inbox = await waitFor(async () => {
      const m = await readInbox(data, 'w@workers.test');
      return ids.every((id) => m.some((x) => x.includes(id))) ? m : undefined;
    }, 20_000, '40 deliveries');
    for (const id of ids) assert.equal(inbox.filter((m) => m.includes(`Message-ID: ${id}`)).length, 1);

    const victim = workerPids().get(1)!;
    process.kill(victim, 'SIGKILL');
    await waitFor(() => workerPids().get(1) !== victim && lines().filter((l) => l.event === 'server.ready' && l.worker === 1).length >= 2, 30_000, 'worker 1 replaced');
    const after = `<after@workers.test>`;
    await send({ port, from: 'a@x.test', to: ['w@workers.test'], raw: `Subject: after\r\nMessage-ID: ${after}\r\n\r\nx\r\n` });
    inbox = await waitFor(async () => {
      const m = await readInbox(data, 'w@workers.test');
      return m.some((x) => x.includes(after)) ? m : undefined;
    }, 20_000, 'delivery after restart');
    assert.ok(inbox.length >= 41);
  } finally {
    const pids = [...workerPids().values()];
    await server.stop();
    await waitFor(() => pids.every((p) => !alive(p)), 10_000, 'workers gone').catch(() => undefined);
    assert.equal(pids.filter(alive).length, 0, 'no worker left running');
    await rm(dir, { recursive: true, force: true });
  }
});
