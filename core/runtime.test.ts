import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { definePlugin } from './plugin.ts';
import { createPluginHarness } from './testing/plugin-harness.ts';
import { defineService } from './services.ts';

test('a retired generation is disposed when its last connection releases it, not before', async () => {
  let disposed = false;
  const h = await createPluginHarness({
    plugins: [[definePlugin({ name: 'p', description: 'p', config: z.object({}), register: () => () => { disposed = true; } }), {}]],
  });
  h.runtime.retain();
  h.runtime.retain();
  const done = h.runtime.retire();
  h.runtime.release();
  await new Promise((r) => setImmediate(r));
  assert.equal(disposed, false, 'one connection still uses it');
  h.runtime.release();
  await done;
  assert.equal(disposed, true);
  await h.close();
});

test('services: one provider per key, typed lookups, withdrawn on dispose', async () => {
  const KEY = defineService<{ hello(): string }>('greeter');
  const provider = definePlugin({ name: 'provider', description: 'x', config: z.object({}), register: (_h, ctx) => { ctx.services.provide(KEY, { hello: () => 'hi' }); } });
  const twice = definePlugin({ name: 'twice', description: 'x', config: z.object({}), register: (_h, ctx) => { ctx.services.provide(KEY, { hello: () => 'again' }); } });
  const h = await createPluginHarness({ plugins: [[provider, {}]] });
  assert.equal(h.services.get(KEY).hello(), 'hi');
  assert.equal(h.services.providerOf(KEY), 'provider');
  await h.close();
  assert.equal(h.services.find(KEY), undefined);
  await assert.rejects(createPluginHarness({ plugins: [[provider, {}], [twice, {}]] }), /already provided by plugin "provider"/);
});
