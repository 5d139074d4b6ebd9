import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startChildServer } from './helpers/child-server.ts';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { waitFor } from './helpers/mail.ts';
import { Dialogue } from '../core/testing/dialogue.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin', 'pochta.js');

async function pochta(args: string[], cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return promisify(execFile)(process.execPath, [BIN, ...args], { cwd }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
  );
}

async function inTemp(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-cli-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('init writes a commented config that config check accepts; print shows the resolved tree', { timeout: 60_000 }, async () => {
  await inTemp(async (dir) => {
    const init = await pochta(['init', '.', '--hostname', 'mx.cli.test'], dir);
    assert.equal(init.code, 0, init.stderr);
    const text = await readFile(path.join(dir, 'pochta.config.yaml'), 'utf8');
    assert.match(text, /^# Pochta configuration/);
    assert.match(text, /hostname: mx\.cli\.test/);
    const check = await pochta(['config', 'check'], dir);
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /ok: .*pochta\.config\.yaml/);
    assert.match(check.stdout, /plugins: relay-acl, auth-file, aliases, local-domains, maildir/);
    const print = await pochta(['config', 'print', '--json'], dir);
    const tree = JSON.parse(print.stdout);
    assert.equal(tree.hostname, 'mx.cli.test');
    assert.equal(tree.smtp.maxRecipients, 100);
    assert.equal(tree.plugins['auth-file'].throttle.perIp.maxFailures, 10, 'plugin defaults filled in');
    assert.equal((await pochta(['init', '.'], dir)).code, 1, 'no overwrite without --force');
  });
});

test('config check fails naming each bad key, with exit code 1', { timeout: 60_000 }, async () => {
  await inTemp(async (dir) => {
    await writeFile(path.join(dir, 'pochta.config.yaml'), 'smtp:\n  maxRecipients: many\nplugins:\n  relay-acl: { networks: [300.1.1.1/8] }\n  dnsbl-typo: {}\n');
    const r = await pochta(['config', 'check'], dir);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /smtp\.maxRecipients: /);
    const r2 = await pochta(['--config', 'pochta.config.yaml', 'config', 'check'], dir);
    assert.equal(r2.code, 1);
    await writeFile(path.join(dir, 'pochta.config.yaml'), 'plugins:\n  relay-acl: { networks: [300.1.1.1/8] }\n  dnsbl-typo: {}\n');
    const r3 = await pochta(['config', 'check'], dir);
    assert.equal(r3.code, 1);
    assert.match(r3.stderr, /plugins\.relay-acl\.networks/);
    assert.match(r3.stderr, /plugins\.dnsbl-typo: cannot load pochta-plugin-dnsbl-typo: not found/);
  });
});

test('hooks lists which plugin taps which hook, in run order', { timeout: 60_000 }, async () => {
  await inTemp(async (dir) => {
    const r = await pochta(['hooks'], dir);
    assert.equal(r.code, 0, r.stderr);
    const block = r.stdout.split('\n');
    const rcpt = block.findIndex((l) => l.startsWith('smtp.rcptTo'));
    assert.ok(rcpt >= 0, r.stdout);
    assert.match(block[rcpt + 1], /1\. aliases/);
    assert.match(block[rcpt + 2], /2\. local-domains/);
    assert.match(r.stdout, /delivery\.local[^\n]*\n\s+1\. maildir/);
    assert.match(r.stdout, /service userDirectory: provided by auth-file/);
    assert.match(r.stdout, /service mailStore: provided by maildir/);
  });
});

test('--help on each command', { timeout: 60_000 }, async () => {
  await inTemp(async (dir) => {
    for (const args of [['--help'], ['start', '--help'], ['config', '--help'], ['hooks', '--help'], ['plugin', 'new', '--help'], ['user', '--help'], ['user', 'add', '--help']]) {
      const r = await pochta(args, dir);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stdout, /Usage: pochta/);
    }
  });
});

test('SIGHUP reloads a valid config; a bad one keeps the old config running and says why', { timeout: 90_000 }, async () => {
  await inTemp(async (dir) => {
    const cfg = path.join(dir, 'pochta.config.yaml');
    const write = (maxRecipients: string) => writeFile(cfg, [
      'hostname: mx.reload.test', 'dataDir: ./data', 'log: { level: info, pretty: false }',
      'pop3: { listeners: {} }',
      'imap: { listeners: {} }',
      'smtp:', '  listeners:', '    mx: { kind: mx, host: 127.0.0.1, port: 0 }', `  maxRecipients: ${maxRecipients}`,
      'plugins:', '  relay-acl: { networks: [127.0.0.0/8] }', '',
    ].join('\n'));
    await write('100');
    const server = await startChildServer(cfg);
    const { child, port } = server;
    const out = { includes: (x: string) => server.output().includes(x) };
    try {
      await write('not-a-number');
      child.kill('SIGHUP');
      await waitFor(() => out.includes('config.reload_failed'), 20_000, 'reload refused');
      assert.match(server.output(), /smtp\.maxRecipients/);
      const d = await Dialogue.connect(port);
      assert.match(await d.reply(), /^220 /, 'still serving');
      d.close();
      await write('100');
      await writeFile(cfg, (await readFile(cfg, 'utf8')).replace('relay-acl: { networks: [127.0.0.0/8] }', 'relay-acl: { networks: [] }'));
      child.kill('SIGHUP');
      await waitFor(() => out.includes('"event":"config.reloaded"'), 20_000, 'reloaded');
      // The new plugin generation applies to new connections: loopback may no longer relay.
      const e = await Dialogue.connect(port);
      await e.reply();
      await e.cmd('EHLO c.test');
      await e.cmd('MAIL FROM:<a@b.test>');
      assert.match(await e.cmd('RCPT TO:<x@remote.test>'), /^550 5\.7\.1 /);
      e.close();
    } finally {
      await server.stop();
    }
  });
});
