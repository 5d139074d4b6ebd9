/**
 * Time and connection bounds of ImapService with short limits (the config schema's minimums are
 * minutes; the service takes whatever config it is given): silent clients before and after login,
 * in IDLE, a command that trickles in forever, and the connection cap.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import authFile from '../../plugins/auth-file/index.ts';
import maildir from '../../plugins/maildir/index.ts';
import { addUser, waitFor } from '../../test/helpers/mail.ts';
import { RootSchema, type RootConfig } from '../config/schema.ts';
import { Metrics } from '../metrics.ts';
import { createPluginHarness } from '../testing/plugin-harness.ts';
import { memoryLogger } from '../testing/memory-log.ts';
import { testTls } from '../pop3/test-support.ts';
import { ImapService } from './service.ts';
import { ALICE, ALICE_PASSWORD, ImapWire, tagged } from './test-support.ts';

let harness: Awaited<ReturnType<typeof createPluginHarness>>;
let service: ImapService;
let port: number;

before(async () => {
  // reloadCheckMs 0: the user added below is seen at the first LOGIN, however fast it comes.
  harness = await createPluginHarness({ plugins: [[authFile, { reloadCheckMs: 0 }], [maildir, {}]] });
  await addUser(harness.dataDir, ALICE, ALICE_PASSWORD);
  const base = RootSchema.parse({ dataDir: harness.dataDir, hostname: 'mx.test', imap: { listeners: { imaps: { tls: 'implicit', host: '127.0.0.1', port: 0 } } } });
  const config: RootConfig = { ...base, imap: { ...base.imap, preAuthTimeoutMs: 400, idleTimeoutMs: 800, maxConnections: 3 } };
  const { log } = memoryLogger();
  service = new ImapService({ config: () => config, runtime: () => harness.runtime, tls: await testTls(), log, metrics: new Metrics() });
  await service.start();
  port = service.addresses().imaps.port;
});
after(async () => {
  await service.stop();
  await harness.close();
});

async function untilClosed(w: ImapWire): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    try {
      lines.push(await w.readResponse(5000));
    } catch {
      assert.ok(w.closed, 'the server closed the connection');
      return lines;
    }
  }
}

test('a silent client is logged out before and after login, and in IDLE', async () => {
  const pre = await ImapWire.connect(port, { tls: true });
  assert.match(await pre.readResponse(), /^\* OK /);
  assert.deepEqual(await untilClosed(pre), ['* BYE Autologout; idle for too long']);

  const idle = await ImapWire.connect(port, { tls: true });
  await idle.readResponse();
  assert.match(tagged(await idle.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`)), / OK /);
  await idle.command('SELECT INBOX');
  idle.write('i IDLE\r\n');
  assert.equal(await idle.readResponse(), '+ idling');
  assert.deepEqual(await untilClosed(idle), ['* BYE Autologout; idle for too long']);
});

test('a command trickling in byte by byte is cut off after the timeout in total', async () => {
  const w = await ImapWire.connect(port, { tls: true });
  await w.readResponse();
  w.write('a LOGIN ');
  let open = true;
  const closed = untilClosed(w).then((lines) => {
    open = false;
    return lines;
  });
  // Each byte comes well within the idle timeout, but the line never ends.
  for (let i = 0; i < 100 && open; i++) {
    w.write('x');
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(await closed, ['* BYE Command took too long to arrive']);
});

test('a client gone in the middle of an APPEND literal leaves nothing held', async () => {
  const w = await ImapWire.connect(port, { tls: true });
  await w.readResponse();
  await w.command(`LOGIN ${ALICE} "${ALICE_PASSWORD}"`);
  w.write('a APPEND INBOX {100000}\r\n');
  assert.equal(await w.readResponse(), '+ Ready for literal data');
  w.write('x'.repeat(5000));
  await waitFor(() => service.literalBytesHeld === 100_000, 5000, 'the literal reserved');
  await w.close();
  await waitFor(() => service.literalBytesHeld === 0 && service.connections === 0, 5000, 'everything given back');
});

test('connections over maxConnections get BYE [UNAVAILABLE]', async () => {
  const held = await Promise.all([0, 1, 2].map(() => ImapWire.connect(port, { tls: true })));
  for (const h of held) await h.readResponse();
  const extra = await ImapWire.connect(port, { tls: true });
  assert.deepEqual(await untilClosed(extra), ['* BYE [UNAVAILABLE] Too many connections']);
  for (const h of held) await h.close();
});
