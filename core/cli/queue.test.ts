import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BIN, startChildServer } from '../../test/helpers/child-server.ts';
import { send, waitFor } from '../../test/helpers/mail.ts';
import type { SpoolEnvelope } from '../queue/envelope.ts';
import { startSmtpSink } from '../queue/testing/smtp-sink.ts';
import { RELAY_PLUGIN, sendRaw, startQueueServer } from '../queue/testing/queue-fixture.ts';

/** `pochta -c <config> queue …` as an admin runs it. */
function pochta(config: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, '-c', config, 'queue', ...args], { cwd: path.dirname(config), timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const iso = (ms: number) => new Date(ms).toISOString();
const T0 = Date.parse('2026-11-27T10:00:00.000Z');
const FAR = Date.parse('2099-01-01T00:00:00.000Z');
const A = '0MIGQ2Y000AAAAAAAAAA';
const B = '0MIGQ2Y000BBBBBBBBBB';

function envelope(id: string, from: string, receivedAt: number, size: number, recipients: SpoolEnvelope['recipients']): SpoolEnvelope {
  return {
    v: 1, id, receivedAt, size,
    mailFrom: { address: from, args: {}, smtpUtf8: false, body: '7bit', requireTls: false },
    client: { address: '127.0.0.1', listener: 'mx', secure: false }, headerEdits: [], recipients,
  };
}

async function configFile(dir: string, extra: string[] = []): Promise<string> {
  const config = path.join(dir, 'pochta.config.yaml');
  await writeFile(config, [
    'hostname: mx.cli.test', 'dataDir: ./data', 'log: { level: info, pretty: false }',
    'pop3: { listeners: {} }', 'imap: { listeners: {} }',
    'smtp:', '  listeners:', '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
    ...extra, '',
  ].join('\n'));
  return config;
}

test('pochta queue on a stopped server works on the spool files: list, show, stats, retry, bounce, delete', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-qcli-'));
  try {
    const config = await configFile(dir, ['plugins: {}']);
    const q = path.join(dir, 'data', 'queue');
    await mkdir(q, { recursive: true });
    await writeFile(path.join(q, `${A}.msg`), 'Subject: a\r\n\r\nx\r\n');
    await writeFile(path.join(q, `${A}.env`), JSON.stringify(envelope(A, 'alice@sender.test', T0, 120, [
      { address: 'far@remote.test', target: { kind: 'remote', address: 'far@remote.test' }, state: 'pending', attempts: 2, nextAttemptAt: FAR, lastError: '451 4.7.1 try later' },
      { address: 'done@remote.test', target: { kind: 'remote', address: 'done@remote.test' }, state: 'delivered', attempts: 1 },
      { address: 'bob@local.test', target: { kind: 'local', user: 'bob@local.test' }, state: 'pending', attempts: 0 },
    ])));
    await writeFile(path.join(q, `${A}.next-${FAR.toString(36)}`), '');
    await writeFile(path.join(q, `${B}.msg`), 'Subject: b\r\n\r\nx\r\n');
    await writeFile(path.join(q, `${B}.env`), JSON.stringify(envelope(B, '', T0 + 3_600_000, 80, [
      { address: 'x@remote.test', target: { kind: 'remote', address: 'x@remote.test' }, state: 'failed', attempts: 1, lastError: '550 5.1.1 unknown' },
    ])));

    const list = await pochta(config, 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, [
      `${A}  2026-11-27T10:00:00.000Z  120 bytes  from alice@sender.test`,
      '  deferred   far@remote.test  attempts 2  next 2099-01-01T00:00:00.000Z  last error: 451 4.7.1 try later',
      '  delivered  done@remote.test  attempts 1',
      '  pending    bob@local.test (local:bob@local.test)  attempts 0',
      `${B}  2026-11-27T11:00:00.000Z  80 bytes  from <>`,
      '  bounced    x@remote.test  attempts 1  last error: 550 5.1.1 unknown',
      '2 messages, 4 recipients',
      '',
    ].join('\n'));

    assert.equal((await pochta(config, 'stats')).stdout, [
      'messages    2', 'recipients  4', 'pending     1', 'in-flight   0', 'deferred    1', 'delivered   1', 'bounced     1',
      'oldest      2026-11-27T10:00:00.000Z', '',
    ].join('\n'));

    const show = await pochta(config, 'show', B);
    assert.equal(show.stdout, [`${B}  2026-11-27T11:00:00.000Z  80 bytes  from <>`, '  bounced    x@remote.test  attempts 1  last error: 550 5.1.1 unknown', `body ${path.join(q, `${B}.msg`)}`, ''].join('\n'));

    const missing = await pochta(config, 'show', 'ZZZZZZZZZZZZZZZZZZZZ');
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'no queued message ZZZZZZZZZZZZZZZZZZZZ\n');

    assert.equal((await pochta(config, 'retry', A)).stdout, `retry: ${A} scheduled at the next start\n`);
    const retried = JSON.parse(await readFile(path.join(q, `${A}.env`), 'utf8')) as SpoolEnvelope;
    assert.equal(retried.recipients[0].nextAttemptAt, undefined);
    assert.ok(!(await readdir(q)).some((f) => f.includes('.next-')), 'the schedule hint is gone: due at start');
    assert.match((await pochta(config, 'list')).stdout, /\n {2}pending {4}far@remote\.test {2}attempts 2 {2}last error: 451 4\.7\.1 try later\n/);

    assert.equal((await pochta(config, 'retry', '--all')).stdout, 'retry: 2 messages scheduled at the next start\n');

    assert.equal((await pochta(config, 'bounce', A)).stdout, `bounced ${A} (notices are sent when the server starts)\n`);
    const bounced = await pochta(config, 'show', A);
    assert.equal(bounced.stdout.split('\n').slice(1, 4).join('\n'), [
      '  bounced    far@remote.test  attempts 2  last error: bounced by the administrator',
      '  delivered  done@remote.test  attempts 1',
      '  bounced    bob@local.test (local:bob@local.test)  attempts 0  last error: bounced by the administrator',
    ].join('\n'));

    assert.equal((await pochta(config, 'delete', B)).stdout, `deleted ${B}\n`);
    assert.deepEqual((await readdir(q)).sort(), [`${A}.env`, `${A}.msg`]);
    const del = await pochta(config, 'delete', B);
    assert.equal(del.code, 1);
    assert.equal((await pochta(config, 'stats')).stdout.split('\n')[0], 'messages    1');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('pochta queue on a running server goes through its control socket; changes go through the scheduler', { timeout: 120_000 }, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-qcli-'));
  const sink = await startSmtpSink({ rcpt: () => ({ code: 451, text: '4.7.1 try later' }) });
  try {
    const config = await configFile(dir, [
      'queue: { remoteRetryBaseMs: 3600000 }',
      'plugins:', '  relay-acl: { networks: [127.0.0.1] }', `  test-relay: { module: ${JSON.stringify(RELAY_PLUGIN)}, port: ${sink.port} }`,
    ]);
    const server = await startChildServer(config);
    try {
      const r1 = await send({ port: server.port, from: 'alice@sender.test', to: ['a@remote.test'], raw: 'Subject: one\r\n\r\nx\r\n' });
      const id1 = /queued as (\w+)/.exec(r1.response)![1];
      const id2 = await sendRaw(server.port, '', ['<b@remote.test>', '<c@remote.test>'], 'Subject: two\r\n\r\ny\r\n');
      const q = path.join(dir, 'data', 'queue');
      const read = async (id: string) => JSON.parse(await readFile(path.join(q, `${id}.env`), 'utf8')) as SpoolEnvelope;
      await waitFor(async () => (await read(id1)).recipients[0].attempts === 1 && (await read(id2)).recipients.every((r) => r.attempts === 1), 20_000, 'both deferred');
      const e1 = await read(id1);
      const e2 = await read(id2);
      const line = (r: SpoolEnvelope['recipients'][number]) => `  deferred   ${r.address}  attempts 1  next ${iso(r.nextAttemptAt!)}  last error: ${r.lastError}`;

      const list = await pochta(config, 'list');
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.stdout, [
        `${id1}  ${iso(e1.receivedAt)}  ${e1.size} bytes  from alice@sender.test`, line(e1.recipients[0]),
        `${id2}  ${iso(e2.receivedAt)}  ${e2.size} bytes  from <>`, line(e2.recipients[0]), line(e2.recipients[1]),
        '2 messages, 3 recipients', '',
      ].join('\n'));
      assert.match(e1.recipients[0].lastError!, /^451 4\.7\.1 try later/);

      assert.equal((await pochta(config, 'stats')).stdout, [
        'messages    2', 'recipients  3', 'pending     0', 'in-flight   0', 'deferred    3', 'delivered   0', 'bounced     0', `oldest      ${iso(e1.receivedAt)}`, '',
      ].join('\n'));

      // A retry through the running scheduler: an attempt now, not in an hour.
      assert.equal((await pochta(config, 'retry', id1)).stdout, `retry: ${id1} scheduled now\n`);
      await waitFor(() => sink.rcptCount('a@remote.test') === 2, 20_000, 'the retried attempt');

      assert.equal((await pochta(config, 'bounce', id2)).stdout, `bounced ${id2}\n`);
      await waitFor(async () => !(await readdir(q)).some((f) => f.startsWith(id2)), 20_000, 'the bounced message removed (null sender: the notice is dropped, no postmaster configured)');

      assert.equal((await pochta(config, 'delete', id1)).stdout, `deleted ${id1}\n`);
      assert.deepEqual((await readdir(q)).filter((f) => f.startsWith(id1)), []);
      assert.equal((await pochta(config, 'list')).stdout, 'queue is empty\n');
      const gone = await pochta(config, 'retry', id1);
      assert.equal(gone.code, 1);
      assert.equal(gone.stderr, `no queued message ${id1}\n`);
      assert.ok(server.lines().some((l) => l.event === 'control.request' && l.op === 'delete' && l.queueId === id1));
    } finally {
      await server.stop();
    }
    assert.ok(!(await readdir(path.join(dir, 'data'))).includes('control.sock'), 'the socket is removed at stop');
  } finally {
    await sink.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the control socket is private and answers bad requests with an error, never more than one bounded line', async () => {
  const sink = await startSmtpSink();
  const t = await startQueueServer(sink);
  try {
    const sock = path.join(t.dataDir, 'control.sock');
    assert.equal((await stat(sock)).mode & 0o777, 0o600);
    const ask = (data: string) => new Promise<string>((resolve, reject) => {
      const s = net.connect(sock);
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('close', () => resolve(out));
      s.on('error', reject);
      s.write(data);
    });
    assert.equal(await ask('not json\n'), '{"error":"request is not JSON"}\n');
    assert.equal(await ask('{"op":"format-disk"}\n'), '{"error":"unknown op"}\n');
    assert.equal(await ask('{"op":"delete"}\n'), '{"error":"delete needs an id"}\n');
    assert.equal(await ask('x'.repeat(10_000)), '{"error":"request too large"}\n');
    assert.equal(await ask('{"op":"stats"}\n'), '{"ok":true,"stats":{"messages":0,"recipients":0,"states":{"pending":0,"in-flight":0,"deferred":0,"delivered":0,"bounced":0}}}\n');
    assert.equal(await ask('{"op":"show","id":"../../etc/passwd"}\n'), '{"ok":false}\n');
  } finally {
    await t.close();
    await sink.close();
  }
});
