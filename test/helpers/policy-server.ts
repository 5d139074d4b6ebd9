/**
 * Shared setup for the e2e tests of inbound scanner plugins (clamav, rspamd, spamassassin): a real
 * server with the usual inbound plugins plus the one under test, one local user, raw-SMTP delivery
 * and a scanner stand-in that accepts and never answers.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { Dialogue } from '../../core/testing/dialogue.ts';
import { startTestServer } from '../../core/testing/server-harness.ts';
import { addUser, readInbox, send, waitFor } from './mail.ts';

export type TestServer = Awaited<ReturnType<typeof startTestServer>>;

/** The one local user: alice@pochta.test, also the submission login. */
export const ALICE = { user: 'alice@pochta.test', pass: 'alice password 1' } as const;

/** relay-acl, auth-file, the plugin under test with `options`, local-domains pochta.test, maildir. */
export async function policyServer(plugin: string, options: Record<string, unknown>): Promise<TestServer> {
  return startTestServer({
    config: { plugins: { 'relay-acl': {}, 'auth-file': {}, [plugin]: options, 'local-domains': { domains: ['pochta.test'] }, maildir: {} } },
    setup: async (dir) => addUser(dir, ALICE.user, ALICE.pass),
  });
}

/** One message from a@remote.test to alice over a raw socket; the reply to the end of DATA. */
export async function deliver(port: number, body: string, timeoutMs = 30_000): Promise<string> {
  const d = await Dialogue.connect(port);
  try {
    await d.reply();
    await d.cmd('EHLO client.test');
    assert.match(await d.cmd('MAIL FROM:<a@remote.test>'), /^250/);
    assert.match(await d.cmd(`RCPT TO:<${ALICE.user}>`), /^250/);
    assert.match(await d.cmd('DATA'), /^354/);
    const stuffed = body.replace(/\r\n\./g, '\r\n..');
    return await d.cmd(`${stuffed}${stuffed.endsWith('\r\n') ? '' : '\r\n'}.`, timeoutMs);
  } finally {
    await d.cmd('QUIT').catch(() => undefined);
  }
}

/** The message in alice's `folder` (INBOX when empty) with exactly that Subject, if delivered. */
export async function findBySubject(s: TestServer, subject: string, folder = ''): Promise<string | undefined> {
  return (await readInbox(s.dataDir, ALICE.user, folder)).find((m) => m.includes(`Subject: ${subject}\r\n`));
}

export interface SilentServer {
  readonly port: number;
  close(): Promise<void>;
}

/** A loopback TCP server that accepts, reads everything and never answers (a hung scanner). */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((c) => {
    sockets.add(c);
    c.resume();
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  return {
    port: (silent.address() as net.AddressInfo).port,
    async close() {
      for (const c of sockets) c.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    },
  };
}

/**
 * Deliver over the MX port to `rcpt` and wait (10 s bound) for a message by Subject in their
 * mailbox. `server` is read at call time, so it may be assigned in a `before` hook.
 */
export function mxMailbox(server: () => TestServer, rcpt: string) {
  return {
    deliver: (from: string, raw: string) => send({ port: server().port('mx'), from, to: [rcpt], raw }),
    find: (subject: string, folder = '') =>
      waitFor(async () => (await readInbox(server().dataDir, rcpt, folder)).find((m) => m.includes(`Subject: ${subject}\r\n`)), 10_000, subject),
  };
}
