import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startChildServer } from '../helpers/child-server.ts';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { addUser, readInbox, send, waitFor } from '../helpers/mail.ts';


async function rssKb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

test('a 50 MB message is streamed: the server\'s RSS grows by about 20 MB at most, and the body arrives intact', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-large-'));
  const cfg = path.join(dir, 'pochta.config.yaml');
  await writeFile(cfg, [
    'hostname: mx.large.test', 'dataDir: ./data', 'log: { level: info, pretty: false }',
    'pop3: { listeners: {} }', 'imap: { listeners: {} }', 'smtp:', '  maxMessageSize: 104857600', '  listeners:', '    mx: { kind: mx, host: 127.0.0.1, port: 0 }',
    'plugins:', '  auth-file: {}', '  local-domains: { domains: [large.test] }', '  maildir: {}', '',
  ].join('\n'));
  await addUser(path.join(dir, 'data'), 'big@large.test', 'irrelevant password');
  const server = await startChildServer(cfg);
  const { child, port } = server;
  try {
    // Warm up every code path once, so the baseline includes loaded modules and JIT code.
    await send({ port, from: 'a@x.test', to: ['big@large.test'], raw: 'Subject: warm-up\r\n\r\nhi\r\n' });
    await waitFor(async () => (await readInbox(path.join(dir, 'data'), 'big@large.test')).length === 1, 10_000, 'warm-up delivery');
    await new Promise((r) => setTimeout(r, 500));
    const baseline = await rssKb(child.pid!);
    // 50 MB of base64-looking lines, as a big attachment is on the wire.
    const line = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3\r\n';
    const body = Buffer.from('Subject: large\r\nMessage-ID: <large@x.test>\r\n\r\n' + line.repeat(Math.ceil((50 * 1024 * 1024) / line.length)));
    const digest = createHash('sha256').update(body).digest('hex');
    let peak = baseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await rssKb(child.pid!).catch(() => 0));
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const r = await send({ port, from: 'a@x.test', to: ['big@large.test'], raw: body });
    assert.match(r.response, /^250 /);
    const peakReceiving = peak;
    const delivered = await waitFor(async () => (await readInbox(path.join(dir, 'data'), 'big@large.test')).find((m) => m.includes('<large@x.test>')), 60_000, 'large delivery');
    sampling = false;
    await sampler;
    const at = delivered.indexOf('Subject: large');
    assert.equal(createHash('sha256').update(Buffer.from(delivered.slice(at), 'latin1')).digest('hex'), digest, 'body intact');
    const growthMb = (peak - baseline) / 1024;
    t.diagnostic(`while receiving: peak ${(peakReceiving / 1024).toFixed(1)} MB`);
    t.diagnostic(`RSS baseline ${(baseline / 1024).toFixed(1)} MB, peak ${(peak / 1024).toFixed(1)} MB, growth ${growthMb.toFixed(1)} MB for a ${(body.length / 1048576).toFixed(1)} MB message`);
    assert.ok(growthMb < 25, `RSS grew by ${growthMb.toFixed(1)} MB`);
  } finally {
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
