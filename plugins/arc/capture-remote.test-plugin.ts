/**
 * A test provider of the REMOTE_DELIVERY contract: it "delivers" each job by writing the bytes a
 * real engine would send (headerPrefix + stored bytes minus removed headers) to a file, one per
 * job, and reports every recipient delivered.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { text } from 'node:stream/consumers';
import { z } from 'zod';
import { definePlugin } from '../../core/plugin.ts';
import { composeMessage } from '../../core/queue/compose.ts';
import { REMOTE_DELIVERY } from '../../core/queue/remote.ts';

export default definePlugin({
  name: 'capture-remote',
  description: 'Test remote delivery: writes outgoing messages to files.',
  config: z.strictObject({ dir: z.string() }),
  async register(_hooks, ctx) {
    const dir = ctx.resolvePath(ctx.config.dir);
    await mkdir(dir, { recursive: true });
    ctx.services.provide(REMOTE_DELIVERY, {
      async deliver(job) {
        const bytes = await text(composeMessage(job.headerPrefix, job.body, job.removeHeaders));
        await writeFile(path.join(dir, `${job.queueId}.eml`), bytes, 'latin1');
        return job.recipients.map((r) => ({ address: r.address, outcome: { kind: 'delivered' as const, detail: 'captured' } }));
      },
    });
  },
});
