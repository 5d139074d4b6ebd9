import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';
import { startChildServer } from '../helpers/child-server.ts';


for (const inline of [true, false]) test(`kill -9 during a load loses no message that got a 250 (${inline ? 'inline delivery' : 'spool, then delivery'})`, { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-kill9-'));
  t.after(() => (process.env.KEEP_K9 ? t.diagnostic(`kept ${dir}`) : rm(dir, { recursive: true, force: true })));
  const config = path.join(dir, 'pochta.config.yaml');
  await writeFile(config, [
    'hostname: mx.kill9.test',
    'dataDir: ./data',
    'log: { level: info, pretty: false }',
    `queue: { inlineDelivery: ${inline} }`,
    'pop3: { listeners: {} }', 'imap: { listeners: {} }', 'smtp:',
    '  listeners:',
    '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
    'plugins:',
    '  auth-file: {}',
    '  local-domains: { domains: [kill9.test] }',
    '  maildir: {}',
    '',
  ].join('\n'));
  const dataDir = path.join(dir, 'data');
  await addUser(dataDir, 'rcpt@kill9.test', 'irrelevant password');
  let server = await startChildServer(config);
  let { port } = server;
  let firstOutput = '';
  const acked = new Set<string>();
  let attempted = 0;
  const errors: string[] = [];
  let stop = false;
  const deadline = Date.now() + 20_000;
  const worker = async (w: number) => {
    for (let i = 0; !stop && Date.now() < deadline && i < 2000; i++) {
      const id = `<k${w}.${i}@load.test>`;
      attempted++;
      try {
        const r = await send({ port, from: `w${w}@load.test`, to: ['rcpt@kill9.test'], raw: `Subject: load ${w}.${i}\r\nMessage-ID: ${id}\r\n\r\n${'payload line of a loaded message\r\n'.repeat(40)}` });
        if (r.response.startsWith('250')) acked.add(id);
      } catch (err) {
        if (stop) return;
        errors.push((err as Error).message);
      }
    }
  };
  const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  try {
    await waitFor(() => acked.size >= 40, 60_000, '40 acknowledged messages').catch((err: Error) => {
      throw new Error(`${err.message}; send errors: ${[...new Set(errors)].slice(0, 5).join(' | ')}`);
    });
  } finally {
    // Whatever happened, the first server dies here (never leaked past the test).
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    firstOutput = server.output();
    stop = true;
    await load;
  }
  t.diagnostic(`attempted ${attempted}, acknowledged ${acked.size} before kill -9`);

  server = await startChildServer(config);
  port = server.port;
  try {
    const inbox = await waitFor(async () => {
      const msgs = await readInbox(dataDir, 'rcpt@kill9.test');
      const ids = msgs.map((m) => /Message-ID: (<[^>]+>)/.exec(m)?.[1]);
      return [...acked].every((id) => ids.includes(id)) ? ids : undefined;
    }, 60_000, 'every acknowledged message in the Maildir after restart').catch(() => undefined);
    const ids = inbox ?? (await readInbox(dataDir, 'rcpt@kill9.test')).map((m) => /Message-ID: (<[^>]+>)/.exec(m)?.[1]);
    const lost = [...acked].filter((id) => !ids.includes(id));
    const counts = new Map<string, number>();
    for (const id of ids) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    const duplicates = [...counts.values()].filter((n) => n > 1).length;
    t.diagnostic(`delivered ${ids.length} files, ${duplicates} duplicated messages (allowed: at-least-once), ${lost.length} lost`);
    const problems = (firstOutput + server.output()).split('\n').filter((l) => /"level":(40|50|60)/.test(l)).slice(0, 10);
    assert.deepEqual(lost, [], `zero losses; server warnings: ${problems.join('\n')}`);
    assert.ok(acked.size >= 40);
  } finally {
    await server.stop();
  }
});
