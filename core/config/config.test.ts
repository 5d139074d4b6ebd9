import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { loadConfig } from './load.ts';
import { ConfigError } from './errors.ts';
import { resolvePlugins } from '../plugin-loader.ts';

async function withDir(fn: (dir: string) => Promise<void>) {
  const dir = await mkdtemp(path.join(tmpdir(), 'pochta-cfg-'));
  try {
    await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('no file: the embedded default listens on loopback only, on unprivileged ports', async () => {
  await withDir(async (dir) => {
    const l = await loadConfig({ cwd: dir, env: {} });
    assert.equal(l.source, 'embedded default');
    const listeners = Object.values(l.config.smtp.listeners);
    assert.ok(listeners.length >= 3);
    for (const x of listeners) {
      assert.equal(x.host, '127.0.0.1');
      assert.ok(x.port > 1024);
    }
    assert.deepEqual(Object.keys(l.config.plugins), ['relay-acl', 'auth-file', 'aliases', 'local-domains', 'maildir']);
    assert.equal(l.dataDir, path.join(dir, 'data'));
  });
});

test('pochta.config.yaml is found and relative paths are taken from its directory', async () => {
  await withDir(async (dir) => {
    await writeFile(path.join(dir, 'pochta.config.yaml'), 'hostname: mx.example.test\ndataDir: ./spool-here\n');
    const l = await loadConfig({ cwd: dir, env: {} });
    assert.equal(l.source, path.join(dir, 'pochta.config.yaml'));
    assert.equal(l.config.hostname, 'mx.example.test');
    assert.equal(l.dataDir, path.join(dir, 'spool-here'));
  });
});

test('errors name the path; unknown keys are errors', async () => {
  await withDir(async (dir) => {
    await writeFile(path.join(dir, 'pochta.config.json'), JSON.stringify({ smtp: { listeners: { mx: { kind: 'mx', port: 'twenty-five' } }, maxMesageSize: 5 }, bogus: 1 }));
    const err = await loadConfig({ cwd: dir, env: {} }).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    assert.match(text, /smtp\.listeners\.mx\.port: .*number/);
    assert.match(text, /smtp: unknown key "maxMesageSize"/);
    assert.match(text, /\(root\): unknown key "bogus"/);
  });
});

test('environment variables override single keys, matched ignoring case and dashes', async () => {
  await withDir(async (dir) => {
    await writeFile(path.join(dir, 'pochta.config.yaml'), 'hostname: a.test\nplugins:\n  local-domains: { domains: [a.test] }\n');
    const l = await loadConfig({
      cwd: dir,
      env: { POCHTA__HOSTNAME: 'b.test', POCHTA__SMTP__MAX_MESSAGE_SIZE: '2048', POCHTA__PLUGINS__LOCAL_DOMAINS__DOMAINS: '["c.test"]', POCHTA__SMTP__LISTENERS__MX__PORT: '2600' },
    });
    assert.equal(l.config.hostname, 'b.test');
    assert.equal(l.config.smtp.maxMessageSize, 2048);
    assert.equal(l.config.smtp.listeners.mx?.port, 2600);
    assert.equal(l.config.smtp.listeners.mx?.kind, 'mx', 'the rest of the default listener is kept');
    assert.deepEqual(l.config.plugins['local-domains'], { domains: ['c.test'] });
    assert.equal(l.envOverrides.length, 4);
  });
});

test('plugin sections are validated by the plugin\'s own schema, with the path', async () => {
  await withDir(async (dir) => {
    const errOf = async (plugins: Record<string, Record<string, unknown>>) =>
      resolvePlugins(plugins, dir).then(() => undefined, (e: unknown) => (e as ConfigError).problems.join('\n'));
    assert.match((await errOf({ 'relay-acl': { networks: 'everyone' } }))!, /^plugins\.relay-acl\.networks: /m);
    assert.match((await errOf({ 'relay-acl': { netwroks: [] } }))!, /^plugins\.relay-acl: unknown key "netwroks"/m);
    assert.match((await errOf({ nonexistent: {} }))!, /plugins\.nonexistent: cannot load pochta-plugin-nonexistent: not found/);
    assert.match((await errOf({ 'relay-acl': { enabled: 'yes' } }))!, /plugins\.relay-acl\.enabled: /);
    assert.equal(await errOf({ 'relay-acl': { enabled: false, networks: ['10.0.0.0/8'] } }), undefined);
  });
});

test('dependencies are checked at boot: missing, disabled or later in the list', async () => {
  await withDir(async (dir) => {
    const zod = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
    const plug = (name: string, deps: string[]) => `import { z } from '${zod}';\nexport default { name: '${name}', description: 'x', config: z.object({}), dependencies: ${JSON.stringify(deps)}, register() {} };\n`;
    await writeFile(path.join(dir, 'a.mjs'), plug('a', ['b']));
    await writeFile(path.join(dir, 'b.mjs'), plug('b', []));
    const errOf = async (plugins: Record<string, Record<string, unknown>>) =>
      resolvePlugins(plugins, dir).then(() => undefined, (e: unknown) => (e as ConfigError).problems.join('\n'));
    assert.match((await errOf({ a: { module: './a.mjs' } }))!, /plugins\.a: depends on "b", which is not configured/);
    assert.match((await errOf({ b: { module: './b.mjs', enabled: false }, a: { module: './a.mjs' } }))!, /which is disabled/);
    assert.match((await errOf({ a: { module: './a.mjs' }, b: { module: './b.mjs' } }))!, /must come earlier/);
    assert.equal(await errOf({ b: { module: './b.mjs' }, a: { module: './a.mjs' } }), undefined);
    await writeFile(path.join(dir, 'needs.mjs'), `import 'no-such-package-for-pochta';\nexport default {};\n`);
    const needs = (await errOf({ needs: { module: './needs.mjs' } }))!;
    assert.match(needs, /plugins\.needs: cannot load \.\/needs\.mjs: .*no-such-package-for-pochta/, 'names the missing import, not the plugin');
    assert.match((await errOf({ gone: { module: './gone.mjs' } }))!, /plugins\.gone: cannot load \.\/gone\.mjs: not found$/m);
    await writeFile(path.join(dir, 'c.mjs'), plug('not-c', []));
    assert.match((await errOf({ c: { module: './c.mjs' } }))!, /defines plugin "not-c"; the config key must match/);
  });
});

test('a third-party plugin is found by npm name (pochta-plugin-<name>) from the config directory', async () => {
  await withDir(async (dir) => {
    const zod = pathToFileURL(createRequire(import.meta.url).resolve('zod')).href;
    const pkg = path.join(dir, 'node_modules', 'pochta-plugin-demo');
    await mkdir(pkg, { recursive: true });
    await writeFile(path.join(pkg, 'package.json'), JSON.stringify({ name: 'pochta-plugin-demo', type: 'module', main: 'index.js', exports: { '.': './index.js' } }));
    await writeFile(path.join(pkg, 'index.js'), `import { z } from '${zod}';\nexport default { name: 'demo', description: 'demo', config: z.object({ level: z.number().default(3) }), register() {} };\n`);
    const [p] = await resolvePlugins({ demo: { level: 5 } }, dir);
    assert.equal(p?.origin, 'pochta-plugin-demo');
    assert.deepEqual(p?.config, { level: 5 });
  });
});
