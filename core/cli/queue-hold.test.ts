import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, startChildServer } from '../../test/helpers/child-server.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import type { SpoolEnvelope } from '../queue/envelope.ts';
import { startSmtpSink } from '../queue/testing/smtp-sink.ts';
import { RELAY_PLUGIN } from '../queue/testing/queue-fixture.ts';

/** `pochta -c <config> queue …` as an admin runs it. */
function pochta(config: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '-c', config, 'queue', ...args], { cwd: path.dirname(config), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/**
 * `pochta queue hold` / `release`: while held, mail is accepted and spooled but nothing is relayed
 * (the scheduler reads each message once and parks it); the hold survives a restart and can be set
 * on a stopped server; release sends everything that waited, and the queue empties.
 */
test('pochta queue hold holds remote delivery across a restart; release delivers what waited', { timeout: 180_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-qhold-'));
  const sink = await startSmtpSink();
  try {
    const config = path.join(dir, 'pochta.config.yaml');
    await writeFile(config, [
      'hostname: mx.cli.test', 'dataDir: ./data', 'log: { level: info, pretty: false }',
      'pop3: { listeners: {} }', 'imap: { listeners: {} }',
      'smtp:', '  listeners:', '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
      'plugins:', '  relay-acl: { networks: [127.0.0.1] }', `  test-relay: { module: ${JSON.stringify(RELAY_PLUGIN)}, port: ${sink.port} }`, '',
    ].join('\n'));
    const q = path.join(dir, 'data', 'queue');
    const envelopes = async () => (await readdir(q).catch(() => [] as string[])).filter((f) => f.endsWith('.env'));

    let server = await startChildServer(config);
    try {
      const held = await pochta(config, 'hold');
      assert.equal(held.code, 0, held.stderr);
      assert.equal(held.stdout, 'remote delivery held\n');
      const ids: string[] = [];
      for (const n of [1, 2]) {
        const r = await send({ port: server.port, from: 'alice@sender.test', to: [`r${n}@remote.test`, `s${n}@other.test`], raw: `Subject: held ${n}\r\n\r\nx\r\n` });
        ids.push(/queued as (\w+)/.exec(r.response)![1]);
      }
      // Both were read by the scheduler and parked: logged, never attempted, nothing at the sink.
      await waitFor(() => server.lines().filter((l) => l.event === 'queue.parked').length === 2, 20_000, 'both messages parked');
      assert.equal(sink.messages.length, 0);
      for (const id of ids) {
        const env = JSON.parse(await readFile(path.join(q, `${id}.env`), 'utf8')) as SpoolEnvelope;
        assert.deepEqual(env.recipients.map((r) => [r.state, r.attempts]), [['pending', 0], ['pending', 0]]);
      }
      const stats = await pochta(config, 'stats');
      assert.match(stats.stdout, /^pending {5}4$/m);
      assert.match(stats.stdout, /remote delivery is held/);
    } finally {
      await server.stop();
    }

    // Still held after a restart: the queued messages are read again and parked again.
    server = await startChildServer(config);
    try {
      await waitFor(() => server.lines().filter((l) => l.event === 'queue.parked').length === 2, 20_000, 'both parked after the restart');
      assert.ok(server.lines().some((l) => l.event === 'queue.held'));
      assert.equal(sink.messages.length, 0);
      assert.equal((await envelopes()).length, 2);

      const released = await pochta(config, 'release');
      assert.equal(released.code, 0, released.stderr);
      assert.equal(released.stdout, 'released: 2 messages due now\n');
      await waitFor(async () => (await envelopes()).length === 0, 20_000, 'an empty queue');
      // Each message went as one transaction: its two domains share the one next hop.
      assert.deepEqual(sink.messages.map((m) => m.to.sort().join(' ')).sort(), ['r1@remote.test s1@other.test', 'r2@remote.test s2@other.test']);
      assert.ok(!(await readdir(q)).includes('hold-remote'));
    } finally {
      await server.stop();
    }

    // On a stopped server the hold is set in the spool and applies from the next start.
    const offline = await pochta(config, 'hold');
    assert.equal(offline.stdout, 'remote delivery held (from the next start)\n');
    server = await startChildServer(config);
    try {
      await send({ port: server.port, from: 'alice@sender.test', to: ['late@remote.test'], raw: 'Subject: late\r\n\r\nx\r\n' });
      await waitFor(() => server.lines().filter((l) => l.event === 'queue.parked').length === 1, 20_000, 'parked under the offline hold');
      assert.equal(sink.messages.length, 2);
      assert.equal((await pochta(config, 'release')).stdout, 'released: 1 message due now\n');
      await waitFor(() => sink.messages.length === 3, 20_000, 'the late message relayed');
      await waitFor(async () => (await envelopes()).length === 0, 20_000, 'an empty queue');
    } finally {
      await server.stop();
    }
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
});
