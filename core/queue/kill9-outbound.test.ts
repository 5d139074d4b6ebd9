import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { send, waitFor } from '../../test/helpers/mail.ts';
import { startChildServer } from '../../test/helpers/child-server.ts';
import { startSmtpSink } from './testing/smtp-sink.ts';
import { RELAY_PLUGIN } from './testing/queue-fixture.ts';

test('kill -9 while remote deliveries are in flight: every acknowledged recipient reaches the next hop at least once', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-k9-out-'));
  // The next hop is slow to answer DATA, so deliveries are in flight when the server dies.
  const sink = await startSmtpSink({ dataDelayMs: 50 });
  t.after(async () => {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  });
  const config = path.join(dir, 'pochta.config.yaml');
  await writeFile(config, [
    'hostname: mx.kill9.test',
    'dataDir: ./data',
    'log: { level: info, pretty: false }',
    'queue: { remoteRetryBaseMs: 200, remoteRetryMaxMs: 1000 }',
    'pop3: { listeners: {} }',
    'imap: { listeners: {} }',
    'smtp:',
    '  listeners:',
    '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
    'plugins:',
    '  relay-acl: { networks: [127.0.0.1] }',
    `  test-relay: { module: ${JSON.stringify(RELAY_PLUGIN)}, port: ${sink.port} }`,
    '',
  ].join('\n'));
  let server = await startChildServer(config);
  const acked = new Set<string>();
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop && i < 500; i++) {
      const id = `<o${w}.${i}@load.test>`;
      try {
        const r = await send({ port: server.port, from: `w${w}@load.test`, to: [`r${i % 3}@remote${w % 2}.test`], raw: `Subject: out ${w}.${i}\r\nMessage-ID: ${id}\r\n\r\n${'line of a relayed message\r\n'.repeat(20)}` });
        if (r.response.startsWith('250')) acked.add(id);
      } catch {
        if (stop) return;
      }
    }
  };
  const load = Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
  let firstOutput = '';
  try {
    await waitFor(() => acked.size >= 60, 60_000, '60 acknowledged messages');
  } finally {
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    firstOutput = server.output();
    stop = true;
    await load;
  }
  const relayedBefore = sink.messages.length;
  t.diagnostic(`acknowledged ${acked.size}, relayed ${relayedBefore} before kill -9`);
  server = await startChildServer(config);
  try {
    const ids = () => new Set(sink.messages.map((m) => /Message-ID: (<[^>]+>)/.exec(m.raw)?.[1]));
    await waitFor(() => [...acked].every((id) => ids().has(id)), 90_000, 'every acknowledged message relayed').catch(() => undefined);
    const seen = ids();
    const lost = [...acked].filter((id) => !seen.has(id));
    const counts = new Map<string, number>();
    for (const m of sink.messages) {
      const id = /Message-ID: (<[^>]+>)/.exec(m.raw)?.[1] ?? '';
      counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    t.diagnostic(`relayed ${sink.messages.length} messages in all, ${[...counts.values()].filter((n) => n > 1).length} more than once (allowed), ${lost.length} lost`);
    const problems = (firstOutput + server.output()).split('\n').filter((l) => /"level":(50|60)/.test(l)).slice(0, 5);
    assert.deepEqual(lost, [], `zero losses; errors: ${problems.join('\n')}`);
    assert.ok(server.lines().some((l) => l.event === 'queue.resumed' || l.event === 'server.ready'));
  } finally {
    await server.stop();
  }
});
